import Cluster
import Foundation
import Testing

@Suite struct ConfigurationTests {
    @Test func markerClusterConfiguration() throws {
        let configuration = try SlurmConfiguration(parsing: try CapturedOutput("marker/scontrol-show-config").output.standardOutput)
        #expect(configuration.version == "22.05.8")
        #expect(configuration.clusterName == "xrbench")
        #expect(configuration.maxArraySize == 1001)
        #expect(configuration.maxJobCount == 10000)
        #expect(!configuration.accountingEnabled)
        #expect(configuration.minJobAge == .seconds(300))
        #expect(configuration.killWait == .seconds(5))
        #expect(configuration.overTimeLimit == .zero)
        #expect(configuration.messageTimeout == .seconds(10))
        #expect(configuration.defaultMemoryPerCPUMegabytes == 1024)
        #expect(configuration.requeuesByDefault)
        #expect(configuration.preemptMode == "CANCEL")
        // The cgroup section comes after the main one; its keys are read too.
        #expect(configuration["CgroupPlugin"] == "cgroup/v1")
        #expect(configuration.memoryEnforcement == .cgroup)
        #expect(configuration["AccountingStorageBackupHost"] == nil)   // "(null)"
    }

    @Test func accountingClusterConfiguration() throws {
        let configuration = try SlurmConfiguration(parsing: try CapturedOutput("accounting/scontrol-show-config").output.standardOutput)
        #expect(configuration.accountingEnabled)
        #expect(configuration.accountingStorageType == "accounting_storage/slurmdbd")
    }

    @Test func somethingElseIsRefused() {
        #expect(throws: SlurmError.self) { try SlurmConfiguration(parsing: "Slurmctld(primary) at vm is UP\n") }
    }
}
