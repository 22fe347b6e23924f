import Foundation
import Pipeline
import Results
import Tensor
import Testing
@testable import Engine

/// The patch-token heads in classification tasks: stored tokens asked for only when such a head
/// is used, masks read from the manifest, plan-time checks of options and masks.
@Suite struct PatchHeadTaskTests {
    static let spec = """
        experiment: patch-heads
        backbones:
          tiny: {kind: vit-tiny-random, seed: 4, resolution: 56}
        datasets:
          phantom: {kind: phantom, count: 48, seed: 4, size: 56, masks: true}
        heads:
          conv: {kind: pe-conv, width: 16, max_epochs: 3, batch_size: 8}
          joint: {kind: multitask, width: 16, max_epochs: 3, batch_size: 8, mask_size: 28, dice_weight: 0.5}
          plus: {kind: multitask-plus, width: 16, max_epochs: 3, batch_size: 8, mask_size: 28, structure_kernel: 7}
        tasks:
          - name: marker
            kind: classification
            labels: [marker]
            metric: auroc
            matrix: {backbone: [tiny], dataset: [phantom], head: [linear, conv, joint, plus], features: [cls, mean]}
        """

    @Test func patchHeadsTrainOnStoredTokensAndMasksAndRecordResults() throws {
        let project = try RunnersProject()
        let report = try project.run(Self.spec)
        #expect(report.status == .succeeded, "\(report.summary)")
        // One result per head: the linear head per feature, each patch head once, on "patch".
        let rows = try project.query("SELECT head, features FROM latest_result WHERE metric = 'auroc' ORDER BY head, features").rows
        let cells = rows.map { row in row.map { if case .text(let text) = $0 { text } else { "?" } }.joined(separator: "/") }
        #expect(cells == ["conv/patch", "joint/patch", "linear/cls", "linear/mean", "plus/patch"], "\(cells)")
        // The embedding stored the patch grid (4×4 tokens of 192 at 56 px).
        let cache = try ArtifactCache(root: project.configuration.cacheDirectory)
        let embed = try #require(cache.entries().first { $0.kind == .embed })
        let tokens = try EmbeddingTokens(embedDirectory: cache.directory(for: embed.key, kind: .embed), cacheDirectory: cache.root)
        #expect(tokens.grid == (4, 4) && tokens.dimension == 192)
        // The multitask heads kept a segmentation branch, one plane per phantom mask class.
        var segmenters: [[Int]] = []
        for entry in try cache.entries() where entry.kind == .probe {
            let weights = try loadSafetensors(at: cache.directory(for: entry.key, kind: .probe).appendingPathComponent("head.safetensors"))
            if let segmenter = weights["segmenter.weight"] { segmenters.append(segmenter.shape) }
        }
        #expect(segmenters.sorted { $0.lexicographicallyPrecedes($1) } == [[7, 16, 1, 1], [7, 16, 1, 1]])
    }

    @Test func aFairnessTaskTrainsPatchHeadsPerSubgroup() throws {
        let project = try RunnersProject()
        let spec = Self.spec.replacingOccurrences(of: "kind: classification", with: "kind: fairness")
            .replacingOccurrences(of: "metric: auroc", with: "metric: auroc\n    bootstrap: {replicates: 20}")
            .replacingOccurrences(of: "head: [linear, conv, joint, plus], features: [cls, mean]}",
                                  with: "head: [joint], train: [male, female], test: [all]}")
        let report = try project.run(spec)
        #expect(report.status == .succeeded, "\(report.summary)")
        let trained = try project.strings("SELECT DISTINCT train_subgroup FROM latest_result WHERE head = 'joint' AND features = 'patch' AND metric = 'auroc' ORDER BY train_subgroup")
        #expect(trained == ["female", "male"], "\(trained)")
    }

    @Test func aTaskNamesTheMaskClassesItsHeadsSegment() throws {
        let project = try RunnersProject()
        let spec = Self.spec.replacingOccurrences(of: "metric: auroc", with: "metric: auroc\n    masks: [marker]")
            .replacingOccurrences(of: "head: [linear, conv, joint, plus], features: [cls, mean]}", with: "head: [joint]}")
        let report = try project.run(spec)
        #expect(report.status == .succeeded, "\(report.summary)")
        let cache = try ArtifactCache(root: project.configuration.cacheDirectory)
        let probe = try #require(cache.entries().first { $0.kind == .probe })
        let weights = try loadSafetensors(at: cache.directory(for: probe.key, kind: .probe).appendingPathComponent("head.safetensors"))
        #expect(weights["segmenter.weight"]?.shape == [1, 16, 1, 1])
        // A class the dataset does not have is an error at its place, with the closest name.
        do {
            _ = try project.run(spec.replacingOccurrences(of: "masks: [marker]", with: "masks: [markers]"))
            Issue.record("an unknown mask class was accepted")
        } catch let error as SpecError {
            let diagnostic = try #require(error.diagnostics.first { $0.keyPath == "tasks[0].masks[0]" }, "\(error)")
            #expect(diagnostic.location.line == 15 && diagnostic.suggestion == "marker", "\(error)")
        }
    }

    @Test func onlyTasksWithPatchHeadsAskForTokens() throws {
        let project = try RunnersProject()
        func embedOutputs(_ spec: String) throws -> EmbeddingOutputs? {
            let plan = try Engine.plan(specURL: project.write(spec, to: "spec.yaml"), configuration: project.configuration)
            let embed = try #require(plan.stages.first { $0.stage.kind == .embed })
            return try embed.stage.parameters.decode(EmbedParameters.self).outputs
        }
        #expect(try embedOutputs(Self.spec) == EmbeddingOutputs(patchTokens: true, layers: []))
        #expect(try embedOutputs(Self.spec.replacingOccurrences(of: "head: [linear, conv, joint, plus]", with: "head: [linear]")) == nil)
    }

    @Test func aHeadThatNeedsMasksOnADatasetWithoutIsAPlanTimeErrorAtItsPlace() throws {
        let project = try RunnersProject()
        let spec = Self.spec.replacingOccurrences(of: ", masks: true}", with: "}")
        do {
            _ = try project.run(spec)
            Issue.record("multitask heads on a dataset without masks were accepted")
        } catch let error as SpecError {
            let keyPaths = error.diagnostics.map(\.keyPath)
            #expect(keyPaths.contains("tasks[0].matrix.head[2]") && keyPaths.contains("tasks[0].matrix.head[3]"), "\(error)")
            #expect(!keyPaths.contains("tasks[0].matrix.head[1]"), "pe-conv needs no masks: \(error)")
            let diagnostic = try #require(error.diagnostics.first { $0.keyPath == "tasks[0].matrix.head[2]" })
            #expect(diagnostic.location.line == 15 && "\(error)".contains("dataset \"phantom\" has none"), "\(error)")
        }
        // Without the Dice term the same head needs no masks.
        let noDice = spec.replacingOccurrences(of: "dice_weight: 0.5", with: "dice_weight: 0")
            .replacingOccurrences(of: ", plus]", with: "]")
        #expect(try Engine.plan(specURL: project.write(noDice, to: "nodice.yaml"), configuration: project.configuration).stages.count > 0)
        #expect(!FileManager.default.fileExists(atPath: project.configuration.databasePath.path))
    }

    @Test func headOptionsAreValidatedWithPositions() throws {
        let project = try RunnersProject()
        for (edit, replacement, keyPath, line) in [
            ("width: 16, max_epochs: 3, batch_size: 8}", "width: 0, max_epochs: 3, batch_size: 8}", "heads.conv.width", 7),
            ("conv: {kind: pe-conv,", "conv: {kind: pe-conv, dice_weight: 1,", "heads.conv.dice_weight", 7),
            ("structure_kernel: 7", "structure_kernel: 8", "heads.plus.structure_kernel", 9),
            ("dice_weight: 0.5", "dice_weight: -1", "heads.joint.dice_weight", 8),
        ] {
            do {
                _ = try project.run(Self.spec.replacingOccurrences(of: edit, with: replacement))
                Issue.record("\(replacement) was accepted")
            } catch let error as SpecError {
                let diagnostic = try #require(error.diagnostics.first { $0.keyPath == keyPath }, "\(keyPath): \(error)")
                #expect(diagnostic.location.line == line, "\(error)")
            }
        }
    }
}

/// `resolution` as a matrix axis: each (backbone, resolution) is a backbone of its own.
@Suite struct ResolutionAxisTests {
    static let spec = """
        experiment: resolutions
        backbones:
          tiny: {kind: vit-tiny-random, seed: 4, display: Tiny}
          pixels: {kind: pixels, size: 8}
        datasets:
          phantom: {kind: phantom, count: 40, seed: 4, size: 56, masks: true}
        heads:
          conv: {kind: pe-conv, width: 8, max_epochs: 2, batch_size: 8}
        tasks:
          - name: marker
            kind: classification
            labels: [marker]
            metric: auroc
            matrix: {backbone: [tiny], dataset: [phantom], head: [conv], resolution: [28, 56]}
        """

    @Test func eachResolutionIsItsOwnEmbeddingAndResultRow() throws {
        let project = try RunnersProject()
        let report = try project.run(Self.spec)
        #expect(report.status == .succeeded, "\(report.summary)")
        #expect(try project.strings("SELECT backbone FROM latest_result WHERE metric = 'auroc' ORDER BY backbone") == ["tiny@28", "tiny@56"])
        let cache = try ArtifactCache(root: project.configuration.cacheDirectory)
        var grids: [Int] = []
        for entry in try cache.entries() where entry.kind == .embed {
            let tokens = try EmbeddingTokens(embedDirectory: cache.directory(for: entry.key, kind: .embed), cacheDirectory: cache.root)
            grids.append(tokens.grid.height)
        }
        #expect(grids.sorted() == [2, 4])
        // The derived backbones keep the display name, with the size.
        let spec = try SpecLoader(catalog: Registry.standard.catalog).load(text: Self.spec, directory: project.folder)
        #expect(spec.backbones["tiny@28"]?.display == "Tiny 28 px" && spec.tasks[0].matrix.backbone == ["tiny@28", "tiny@56"])
    }

    @Test func aResolutionTheFamilyRejectsOrCannotTakeIsAPlanTimeError() throws {
        let project = try RunnersProject()
        for (edit, keyPath, message) in [
            ("resolution: [28, 56]", "tasks[0].matrix.resolution[1]", "multiple"),
            ("backbone: [tiny], dataset: [phantom], head: [conv]", "tasks[0].matrix.resolution", "no input resolution"),
        ] {
            let spec = keyPath.hasSuffix("[1]") ? Self.spec.replacingOccurrences(of: edit, with: "resolution: [28, 30]")
                : Self.spec.replacingOccurrences(of: edit, with: "backbone: [pixels], dataset: [phantom], head: [linear]")
            do {
                _ = try project.run(spec)
                Issue.record("\(keyPath) was accepted")
            } catch let error as SpecError {
                let diagnostic = try #require(error.diagnostics.first { $0.keyPath == keyPath }, "\(error)")
                #expect(diagnostic.location.line == 14 && diagnostic.message.contains(message), "\(error)")
            }
        }
    }
}
