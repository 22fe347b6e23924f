import Cluster
import Foundation
import Testing

@Suite struct SubmissionTests {
    @Test func everyOptionBecomesItsSbatchArgument() throws {
        let request = BatchJobRequest(
            name: "xrbench-run-7", script: "#!/bin/bash\ntrue\n", arrayIndices: ArrayIndices(0..<10), maxConcurrentTasks: 4,
            outputPath: "/shared/logs/%A_%a.out", errorPath: "/shared/logs/%A_%a.err", workingDirectory: "/shared",
            timeLimit: .seconds(90 * 60), memoryMegabytes: 8192, cpusPerTask: 8, partition: "gpu", account: "rad",
            qos: "normal", gres: "gpu:1", afterSuccessOf: [TaskID(job: 11), TaskID(job: 12, arrayIndex: 3)],
            afterEndOf: [TaskID(job: 13)], requeue: false, excludedNodes: ["n1", "n2"], extraArguments: ["--constraint=a100"])
        #expect(try request.sbatchArguments() == [
            "--parsable", "--job-name=xrbench-run-7", "--array=0-9%4",
            "--output=/shared/logs/%A_%a.out", "--error=/shared/logs/%A_%a.err", "--chdir=/shared",
            "--time=0-01:30:00", "--mem=8192M", "--cpus-per-task=8", "--partition=gpu", "--account=rad",
            "--qos=normal", "--gres=gpu:1", "--dependency=afterok:11:12_3,afterany:13", "--no-requeue", "--exclude=n1,n2",
            "--constraint=a100",
        ])
        let minimal = BatchJobRequest(name: "one", script: "#!/bin/sh\n")
        #expect(try minimal.sbatchArguments() == ["--parsable", "--job-name=one"])
    }

    @Test func badRequestsAreRefusedBeforeSbatchRuns() {
        for request in [BatchJobRequest(name: "", script: "#!/bin/bash\n"),
                        BatchJobRequest(name: "has space", script: "#!/bin/bash\n"),
                        BatchJobRequest(name: "ok", script: "echo no interpreter line"),
                        BatchJobRequest(name: "ok", script: "#!/bin/bash\n", memoryMegabytes: 0),
                        BatchJobRequest(name: "ok", script: "#!/bin/bash\n", timeLimit: .zero)] {
            #expect(throws: SlurmError.self) { try request.sbatchArguments() }
        }
    }

    @Test func timeLimitsRoundUpToWholeSeconds() throws {
        func time(_ duration: Duration) throws -> String? {
            try BatchJobRequest(name: "t", script: "#!/bin/sh\n", timeLimit: duration).sbatchArguments()
                .first { $0.hasPrefix("--time=") }
        }
        #expect(try time(.seconds(61)) == "--time=0-00:01:01")
        #expect(try time(.milliseconds(1500)) == "--time=0-00:00:02")
        #expect(try time(.seconds(2 * 86_400 + 3 * 3600)) == "--time=2-03:00:00")
    }

    @Test func arrayIndicesRoundTrip() {
        #expect(ArrayIndices([5, 0, 1, 2, 9, 7, 8]).description == "0-2,5,7-9")
        #expect(ArrayIndices(parsing: "0-2,5,7-9")?.values == [0, 1, 2, 5, 7, 8, 9])
        #expect(ArrayIndices(parsing: "0-10:5")?.values == [0, 5, 10])
        #expect(ArrayIndices(parsing: "4")?.largest == 4)
        #expect(ArrayIndices(parsing: "3-1") == nil)
        #expect(ArrayIndices(parsing: "a") == nil)
    }

    @Test func chunksStayBelowMaxArraySize() {
        #expect(ArrayChunking.chunks(taskCount: 2500, maxArraySize: 1001) == [0..<1001, 1001..<2002, 2002..<2500])
        #expect(ArrayChunking.chunks(taskCount: 250, maxArraySize: 1001, maxTasksPerArray: 100) == [0..<100, 100..<200, 200..<250])
        #expect(ArrayChunking.chunks(taskCount: 0, maxArraySize: 1001).isEmpty)
        // Every chunk's largest index (count - 1) is below MaxArraySize.
        for chunk in ArrayChunking.chunks(taskCount: 5000, maxArraySize: 1001) { #expect(chunk.count - 1 < 1001) }
    }
}
