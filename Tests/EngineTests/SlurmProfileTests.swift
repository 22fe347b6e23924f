@testable import Engine
import Foundation
import Pipeline
import Testing
import TestSupport

/// The Slurm profile: Slurm times and sizes, per-kind overrides and packing, and a profile from
/// the spec's `executors:` section and a `--profile` file validated like the rest of a spec.
@Suite struct SlurmProfileTests {
    @Test func slurmTimesAndSizesParseAsSbatchReadsThem() {
        #expect(parseSlurmTime("30") == 1800)
        #expect(parseSlurmTime("5:30") == 330)
        #expect(parseSlurmTime("1:00:00") == 3600)
        #expect(parseSlurmTime("2-00:00:00") == 172_800)
        #expect(parseSlurmTime("1-2") == 93_600)
        #expect(parseSlurmTime("1-2:30") == 95_400)
        for bad in ["", "0", "an hour", "1:2:3:4", "-5", "1:-1"] { #expect(parseSlurmTime(bad) == nil, "\(bad)") }
        #expect(parseMemory("512") == 512)
        #expect(parseMemory("512M") == 512)
        #expect(parseMemory("4G") == 4096)
        #expect(parseMemory("4gb") == 4096)
        #expect(parseMemory("1T") == 1_048_576)
        #expect(parseMemory("1536K") == 2)
        for bad in ["", "0", "lots", "4X"] { #expect(parseMemory(bad) == nil, "\(bad)") }
    }

    @Test func kindsOverrideTheDefaultsAndEmbeddingRunsOneStagePerTask() throws {
        let profile = try SlurmProfile([
            "partition": .string("cpu"), "time": .string("30"), "memory": .string("2G"), "cpus": .integer(2),
            "extraArgs": .list([.string("--constraint=avx512")]),
            "kinds": .object([
                "embed": .object(["cpus": .integer(16), "memory": .string("32G"), "gres": .string("gpu:1"), "time": .string("4:00:00")]),
                "metric": .object(["pack": .integer(40)]),
            ]),
        ])
        let probe = profile.resources(for: "probe", threads: .count(1))
        #expect(probe.partition == "cpu" && probe.timeLimitSeconds == 1800 && probe.memoryMegabytes == 2048 && probe.cpus == 2)
        #expect(probe.stagesPerTask == 8 && probe.extraArguments == ["--constraint=avx512"])
        let embed = profile.resources(for: .embed, threads: .all)
        #expect(embed.partition == "cpu" && embed.cpus == 16 && embed.memoryMegabytes == 32768 && embed.gres == "gpu:1")
        #expect(embed.timeLimitSeconds == 14400 && embed.stagesPerTask == 1)
        #expect(profile.resources(for: "metric", threads: .count(1)).stagesPerTask == 40)
        #expect(profile.retries == 2 && profile.timeFactor == 2 && profile.shardTasks == 16 && profile.accounting == "auto")

        let packedEverywhere = try SlurmProfile(["pack": .integer(3)])
        #expect(packedEverywhere.resources(for: .embed, threads: .all).stagesPerTask == 3)
    }

    @Test func aTimeThatDoesNotParseNamesItsField() {
        #expect(throws: SlurmExecutorError.badProfile(field: "kinds.probe.time", value: "soon",
                                                      expected: "a Slurm time: minutes, MM:SS, HH:MM:SS, D-HH or D-HH:MM:SS")) {
            try SlurmProfile(["kinds": .object(["probe": .object(["time": .string("soon")])])])
        }
    }

    @Test func theSpecSectionAndTheProfileFileAreValidatedWithPositions() throws {
        let folder = try makeTemporaryDirectory("xrbench-profile")
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = """
            experiment: profiled
            datasets:
              phantom: {kind: phantom, count: 20, seed: 1}
            tasks:
              - name: view
                kind: retrieval
                k: [5]
                relevance: view
                matrix: {backbone: [pixels], dataset: [phantom]}
            backbones:
              pixels: {kind: pixels, size: 8}
            executors:
              slurm:
                partition: debug
                time: "10"
                kinds:
                  embed: {cpus: 2}
            """
        let specURL = folder.appendingPathComponent("spec.yaml")
        try Data(spec.utf8).write(to: specURL)
        let loader = SpecLoader(catalog: Registry.standard.catalog, environment: [:])
        let loaded = try loader.load(specURL)
        #expect(loaded.executors["slurm"]?["partition"] == .string("debug"))
        #expect(loaded.executors["slurm"]?["kinds"]?.objectValue?["embed"]?.objectValue?["cpus"] == .integer(2))

        // The file's fields win over the spec's.
        let file = folder.appendingPathComponent("slurm.yaml")
        try Data("time: \"20\"\nretries: 1\n".utf8).write(to: file)
        let configuration = EngineConfiguration(cacheDirectory: folder.appendingPathComponent("cache"), environment: [:],
                                                executorProfile: file, observer: nil, handlesInterrupts: false)
        let merged = try Engine.executorProfile(SlurmExecutorKind(), spec: loaded, configuration: configuration)
        #expect(merged["partition"] == .string("debug") && merged["time"] == .string("20") && merged["retries"] == .integer(1))

        // A typo in the file is an error with its line and a suggestion, as in a spec.
        try Data("partition: debug\nretires: 3\n".utf8).write(to: file)
        do {
            _ = try Engine.executorProfile(SlurmExecutorKind(), spec: loaded, configuration: configuration)
            Issue.record("a misspelt profile key was accepted")
        } catch let error as SpecError {
            let text = "\(error)"
            #expect(text.contains("slurm.yaml:2") && text.contains("retires") && text.contains("retries"), "\(text)")
        }

        // So is one in the spec's section.
        let typo = spec.replacingOccurrences(of: "partition: debug", with: "partitoin: debug")
        do {
            _ = try loader.load(text: typo, directory: folder)
            Issue.record("a misspelt executors key was accepted")
        } catch let error as SpecError {
            #expect("\(error)".contains("executors.slurm.partitoin"), "\(error)")
        }
    }
}
