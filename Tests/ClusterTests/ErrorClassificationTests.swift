import Cluster
import Foundation
import Testing

/// Every failure captured from the test cluster maps to the error that says what to do.
@Suite struct ErrorClassificationTests {
    func classify(_ name: String) throws -> SlurmError {
        let capture = try CapturedOutput(name)
        #expect(capture.output.status != 0, "\(name) should have failed")
        return SlurmError.classify(command: capture.command, output: capture.output)
    }

    func refusal(_ name: String) throws -> SubmissionRefusal? {
        guard case .submissionRefused(let reason, _, _) = try classify(name) else { return nil }
        return reason
    }

    @Test func sbatchRefusals() throws {
        for path in ["marker", "accounting"] {
            #expect(try refusal("\(path)/sbatch-invalid-partition") == .invalidPartition)
            #expect(try refusal("\(path)/sbatch-too-much-memory") == .resourcesUnavailable)
            #expect(try refusal("\(path)/sbatch-array-too-large") == .invalidArray)
        }
        // Refused only where the cluster enforces limits at submission.
        #expect(try refusal("enforced/sbatch-invalid-account") == .invalidAccount)
        #expect(try refusal("enforced/sbatch-invalid-qos") == .invalidQOS)
        #expect(try refusal("enforced/sbatch-time-over-partition-limit") == .invalidTimeLimit)
        #expect(try refusal("enforced/sbatch-too-many-cpus") == .resourcesUnavailable)
    }

    @Test func refusalMessagesCarrySlurmsReasonAndAdvice() throws {
        let error = try classify("marker/sbatch-invalid-partition")
        #expect(error.description.contains("Invalid partition name specified"))
        #expect(error.description.contains("sinfo -s"))
    }

    @Test func controllerDown() throws {
        for name in ["scontrol-show-config-down", "squeue-down", "sbatch-down", "scancel-down", "scontrol-ping-down"] {
            let error = try classify("marker/\(name)")
            guard case .controllerUnreachable = error else {
                Issue.record("\(name): \(error)")
                continue
            }
            #expect(error.description.contains("scontrol ping"))
        }
    }

    @Test func accountingDisabledOrDown() throws {
        guard case .accountingDisabled = try classify("marker/sacct-disabled") else {
            Issue.record("sacct without accounting")
            return
        }
        let down = try classify("accounting/sacct-slurmdbd-down")
        guard case .accountingUnreachable = down else {
            Issue.record("sacct with slurmdbd down: \(down)")
            return
        }
        #expect(down.description.contains("wait"))
    }

    @Test func acceptedSubmissionsPrintTheJobID() throws {
        // On a cluster that does not enforce limits, these were accepted (and stay pending).
        for name in ["sbatch-time-over-partition-limit", "sbatch-invalid-qos"] {
            let capture = try CapturedOutput("marker/\(name)")
            #expect(capture.output.status == 0)
            #expect(Int(capture.output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) != nil)
        }
    }

    @Test func scancelOfAnUnknownJobIsSilent() throws {
        // Measured on 22.05: no message and status 0 (so cancelling twice is harmless).
        let capture = try CapturedOutput("marker/scancel-unknown-job")
        #expect(capture.output.status == 0)
    }
}
