import Datasets
import Foundation
import Pipeline
import Results
import Testing
@testable import Engine

/// DicePos of the multitask heads in probe tasks (the paper's Table 6): recorded from the masks the
/// head predicts on the test images, only for heads that segment, with bootstrap intervals in
/// fairness tasks.
@Suite struct PatchHeadDicePosTests {
    static let spec = """
        experiment: dice-pos
        backbones:
          tiny: {kind: vit-tiny-random, seed: 4, resolution: 56}
        datasets:
          phantom: {kind: phantom, count: 48, seed: 4, size: 56, masks: true}
        heads:
          conv: {kind: pe-conv, width: 16, max_epochs: 3, batch_size: 8}
          joint: {kind: multitask, width: 16, max_epochs: 3, batch_size: 8, mask_size: 28}
        tasks:
          - name: heads
            kind: classification
            labels: [marker]
            metric: [auroc]
            matrix: {backbone: [tiny], dataset: [phantom], head: [conv, joint]}
          - name: masks
            kind: classification
            labels: [marker]
            masks: [lungs, marker]
            metric: [auroc, dice-pos]
            matrix: {backbone: [tiny], dataset: [phantom], head: [joint]}
        """

    @Test func dicePosOfAMultitaskHeadIsTheDiceOfItsStoredMasksOnPositiveImages() throws {
        let project = try RunnersProject()
        let report = try project.run(Self.spec)
        #expect(report.status == .succeeded, "\(report.summary)")
        let recorded = try project.number("SELECT value FROM latest_result WHERE task = 'masks' AND metric = 'dice-pos'")
        // The probe that segments lungs and marker (the `heads` task's joint head segments all seven classes).
        let cache = try ArtifactCache(root: project.configuration.cacheDirectory)
        let probes = try cache.entries().filter { $0.kind == .probe }.map { try cache.directory(for: $0.key, kind: .probe) }
        let directory = try #require(probes.first { (try? ProbeArtifact.read(from: $0))?.segmentation?.classes == ["lungs", "marker"] })
        let probe = try ProbeArtifact.read(from: directory)
        let segmentation = try #require(probe.segmentation)
        #expect(segmentation.maskSize == 28)
        let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent("predicted-masks.bin")))
        let manifestEntry = try #require(try cache.entries().first { $0.kind == .manifest })
        let manifest = try ManifestArtifact.read(from: cache.directory(for: manifestEntry.key, kind: .manifest)).manifest
        // Independently: per class, the mean Dice over the test images whose mask has the class;
        // then the mean over classes.
        let size = 28, pixels = size * size
        var perClass: [[Double]] = [[], []]
        for (position, row) in probe.testIndices.enumerated() {
            let masks = try manifest.masks(of: manifest.samples[row], size: MaskSize(width: size, height: size), padToSquare: true)
            for (plane, name) in ["lungs", "marker"].enumerated() {
                let truth = masks.plane(try #require(phantomMaskClasses.firstIndex(of: name)))
                guard truth.contains(where: { $0 != 0 }) else { continue }
                var intersection = 0, predictedCount = 0, truthCount = 0
                for pixel in 0..<pixels {
                    let bit = ((position * 2 + plane) * pixels + pixel)
                    let predicted = (bytes[bit / 8] >> UInt8(bit % 8)) & 1 == 1, actual = truth[pixel] != 0
                    if predicted { predictedCount += 1 }
                    if actual { truthCount += 1 }
                    if predicted && actual { intersection += 1 }
                }
                perClass[plane].append(2 * Double(intersection) / Double(predictedCount + truthCount))
            }
        }
        #expect(!perClass[0].isEmpty && !perClass[1].isEmpty, "the test set needs images with lungs and with markers")
        let expected = perClass.map { $0.reduce(0, +) / Double($0.count) }.reduce(0, +) / 2
        #expect(abs(recorded - expected) < 1e-12, "recorded \(recorded), from the stored masks \(expected)")
        #expect(recorded > 0, "the lungs are large; three epochs find some of them")
        // The heads that do not segment get no mask metric at all.
        #expect(try project.strings("SELECT DISTINCT head FROM latest_result WHERE metric LIKE 'dice%'") == ["joint"])
        let convProbe = try #require(probes.compactMap { try? ProbeArtifact.read(from: $0) }.first { $0.segmentation == nil })
        #expect(convProbe.scores.count > 0)
    }

    @Test func dicePosFromAHeadWithoutASegmentationBranchIsASpecError() throws {
        let project = try RunnersProject()
        let spec = Self.spec.replacingOccurrences(of: "metric: [auroc]\n", with: "metric: [auroc, dice-pos]\n")
        do {
            _ = try project.run(spec)
            Issue.record("dice-pos from a pe-conv head was accepted")
        } catch let error as SpecError {
            let diagnostic = try #require(error.diagnostics.first { $0.keyPath == "tasks[0].metric" }, "\(error)")
            #expect(diagnostic.location.line == 13, "\(error)")
            #expect("\(error)".contains("dice-pos") && "\(error)".contains("head \"conv\" (pe-conv) at matrix.head[0]"), "\(error)")
            #expect(!error.diagnostics.contains { "\($0)".contains("head \"joint\"") }, "multitask segments: \(error)")
        }
        // An unknown metric still names the classification and segmentation metrics.
        do {
            _ = try project.run(Self.spec.replacingOccurrences(of: "dice-pos]", with: "dice-poss]"))
            Issue.record("an unknown metric was accepted")
        } catch let error as SpecError {
            let diagnostic = try #require(error.diagnostics.first { $0.keyPath == "tasks[1].metric[1]" }, "\(error)")
            #expect(diagnostic.suggestion == "dice-pos", "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: project.configuration.databasePath.path))
    }

    @Test func aFairnessTaskBootstrapsDicePos() throws {
        let project = try RunnersProject()
        let spec = Self.spec.replacingOccurrences(of: """
              - name: masks
                kind: classification
            """, with: """
              - name: masks
                kind: fairness
                bootstrap: {replicates: 30}
            """)
            .replacingOccurrences(of: "metric: [auroc, dice-pos]", with: "metric: [dice-pos, auroc]")
            .replacingOccurrences(of: "head: [joint]}", with: "head: [joint], train: [all], test: [male, female]}")
            // Enough epochs that the lungs are found on both subgroups' test images.
            .replacingOccurrences(of: "max_epochs: 3, batch_size: 8, mask_size: 28}", with: "max_epochs: 12, batch_size: 8, mask_size: 28}")
        let report = try project.run(spec)
        #expect(report.status == .succeeded, "\(report.summary)")
        var widths: [Double] = []
        for test in ["male", "female"] {
            func value(_ metric: String) throws -> Double {
                try project.number("SELECT value FROM latest_result WHERE task = 'masks' AND test_subgroup = '\(test)' AND metric = '\(metric)'")
            }
            let estimate = try value("dice-pos"), low = try value("dice-pos-ci-low"), high = try value("dice-pos-ci-high")
            #expect(low <= estimate && estimate <= high, "\(test): \(low) ≤ \(estimate) ≤ \(high)")
            let replicates = try project.number("SELECT count(value) FROM bootstrap_replicate WHERE metric = 'dice-pos' AND test_subgroup = '\(test)'")
            #expect(replicates == 30, "\(test): \(replicates) computable replicates")
            widths.append(high - low)
        }
        #expect(widths.contains { $0 > 0 }, "resampling patients moves DicePos: \(widths)")
    }
}
