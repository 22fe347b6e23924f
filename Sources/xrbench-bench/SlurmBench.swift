import Cluster
import Engine
import Foundation
import Results
import Synchronization

/// Counts the Slurm commands the executor runs, by program.
private final class CountingRunner: CommandRunner {
    private let base = ProcessCommandRunner()
    private let counts = Mutex<[String: Int]>([:])

    var snapshot: [String: Int] { counts.withLock { $0 } }

    func run(_ invocation: CommandInvocation) async throws -> CommandOutput {
        counts.withLock { $0[invocation.executable, default: 0] += 1 }
        return try await base.run(invocation)
    }
}

/// The engine bench's spec with real runners: 4 backbones × 2 datasets × 2 heads × 5 fractions
/// × 6 seeds (2 manifests, 8 embeddings, 60 splits, 480 probes, 480 metrics = 1,030 stages),
/// heads cut to 10 epochs so the bench stays minutes.
private let slurmBenchRegistry = """
    backbones:
      pixels-8: {kind: pixels, size: 8}
      pixels-16: {kind: pixels, size: 16}
      pixels-24: {kind: pixels, size: 24}
      pixels-32: {kind: pixels, size: 32}
    datasets:
      phantom-a: {kind: phantom, count: 100, seed: 1, size: 64}
      phantom-b: {kind: phantom, count: 100, seed: 2, size: 64}
    heads:
      mlp: {kind: mlp, hidden: [32], max_epochs: 10}
      linear: {kind: linear, max_epochs: 10}
    """

private let slurmBenchSpec = "experiment: slurm-bench\ninclude: [registry.yaml]\n" + thousandStageTasks

/// Polls every 2 s growing to 10 s (the defaults, 10 s to 3 min, suit real clusters but would
/// be most of this bench's wall time); probes and metrics 16 per task.
private let slurmBenchProfile = """
    poll_interval: 2
    max_poll_interval: 10
    pack: 16
    """

/// CPU seconds (user + system) of this process and of its waited-for children.
private func cpuSeconds() -> (own: Double, children: Double) {
    func seconds(_ usage: rusage) -> Double {
        Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
    var own = rusage(), children = rusage()
    getrusage(RUSAGE_SELF.rawValue, &own)
    getrusage(RUSAGE_CHILDREN.rawValue, &children)
    return (seconds(own), seconds(children))
}

/// `make bench`: the 1,030-stage spec through the local executor, then through Slurm (when a
/// controller answers): sbatch calls, status queries, the driver's CPU seconds and the wall time
/// over the local executor's. Skipped with a message when no cluster answers.
func runSlurmBench() -> BenchMeasurements {
    var measurements = BenchMeasurements()
    guard slurmControllerAnswers() else {
        print("slurm: skipped (no Slurm controller answers `scontrol ping`; `make slurm-up` starts the test cluster)")
        return measurements
    }
    do {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-slurm-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try slurmBenchRegistry.write(to: folder.appendingPathComponent("registry.yaml"), atomically: true, encoding: .utf8)
        try slurmBenchProfile.write(to: folder.appendingPathComponent("slurm.yaml"), atomically: true, encoding: .utf8)
        let specURL = folder.appendingPathComponent("bench.yaml")
        try slurmBenchSpec.write(to: specURL, atomically: true, encoding: .utf8)

        func configuration(_ name: String, executor: String, registry: Registry) -> EngineConfiguration {
            EngineConfiguration(cacheDirectory: folder.appendingPathComponent("\(name)/cache"),
                                databasePath: folder.appendingPathComponent("\(name)/results.sqlite"), environment: [:],
                                registry: registry, executor: executor,
                                executorProfile: executor == "slurm" ? folder.appendingPathComponent("slurm.yaml") : nil,
                                observer: nil, handlesInterrupts: false)
        }
        func measured(_ configuration: EngineConfiguration) throws -> (RunReport, wall: Double, cpu: Double, children: Double) {
            let cpu = cpuSeconds(), start = ContinuousClock.now
            let report = try Engine.run(specURL: specURL, configuration: configuration)
            let wall = seconds(since: start), after = cpuSeconds()
            return (report, wall, after.own - cpu.own, after.children - cpu.children)
        }

        let local = try measured(configuration("local", executor: "local", registry: .standard))
        let counter = CountingRunner()
        var registry = Registry.standard
        registry.register(executor: SlurmExecutorKind(runner: counter))
        let slurm = try measured(configuration("slurm", executor: "slurm", registry: registry))
        guard local.0.status == .succeeded, slurm.0.status == .succeeded else {
            print("slurm: a run failed:\n\(local.0.summary)\n\(slurm.0.summary)")
            return measurements
        }
        let everything = "SELECT task, backbone, dataset, head, fraction, seed, label, metric, value FROM result ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"
        let identical = try ResultReader(path: folder.appendingPathComponent("local/results.sqlite")).query(everything)
            == ResultReader(path: folder.appendingPathComponent("slurm/results.sqlite")).query(everything)
        let commands = counter.snapshot
        let queries = (commands["sacct"] ?? 0) + (commands["squeue"] ?? 0)
        print("slurm: \(slurm.0.totalStages)-stage spec, one-node cluster (\(ProcessInfo.processInfo.activeProcessorCount) CPUs)")
        print(String(format: "slurm: local executor               %6.1f s wall, %6.1f s CPU", local.wall, local.cpu))
        print(String(format: "slurm: slurm executor               %6.1f s wall (%.2f× local)", slurm.wall, slurm.wall / local.wall))
        print(String(format: "slurm: driver CPU                   %6.2f s (own), %.2f s (Slurm commands it ran)", slurm.cpu, slurm.children))
        print("slurm: sbatch calls                  \(commands["sbatch"] ?? 0) for \(slurm.0.totalStages) stages")
        print("slurm: status queries                \(queries) (sacct \(commands["sacct"] ?? 0), squeue \(commands["squeue"] ?? 0))")
        for note in slurm.0.executorNotes { print("  \(note)") }
        print("slurm: results identical to local    \(identical ? "yes" : "NO")")
        measurements.record("slurm 1030 stages sbatch calls", Double(commands["sbatch"] ?? 0), higherIsBetter: false)
        measurements.record("slurm 1030 stages status queries", Double(queries), higherIsBetter: false)
        measurements.record("slurm 1030 stages driver CPU s", slurm.cpu, higherIsBetter: false)
        measurements.record("slurm 1030 stages wall over local", slurm.wall / local.wall, higherIsBetter: false)
    } catch {
        print("slurm bench failed: \(error)")
    }
    return measurements
}

/// Whether `scontrol ping` says a controller is up.
private func slurmControllerAnswers() -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["scontrol", "ping"]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return process.terminationStatus == 0 && text.contains("is UP")
}
