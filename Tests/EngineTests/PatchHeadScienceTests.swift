import Foundation
import Testing
@testable import Engine

/// The paper's §3.1 finding as a test: a label that depends on a small local structure (the lead
/// marker, 5×7 glyph cells ≈ 4.5% × 6.4% of the image in a random corner) is read far better by
/// convolutions on the patch tokens than by an MLP on the CLS token.
///
/// Backbone: the ViT-Ti/14 architecture with random weights (`vit-tiny-random`) at 56 px (4×4
/// tokens); 300 phantom radiographs, 3 seeds of the patient split, fixed data. Both heads get the
/// same epoch budget (40); the CLS MLP has the demo's faster settings (lr 1e-3, patience 25), the
/// PE-conv head max pooling, lr 3e-3 and batch 8 (measured in PyTorch on the same tokens to
/// converge within ~10 epochs for every seed; lr 1e-3 and batch 16 left one seed of three at
/// chance within 40 epochs).
///
/// Measured (debug build, this machine): MCC of the CLS MLP −0.037, −0.018, −0.008 (seeds 0–2;
/// standard deviation 0.015); of PE-conv 0.933, 0.965, 0.932 (standard deviation 0.019). At 112 px
/// (8×8 tokens): MLP 0.000, −0.015, 0.023; PE-conv 0.870, 0.930, 0.808. The margin asserted, the
/// worst PE-conv seed over the best MLP seed by 0.5 MCC, is 25 times the larger seed spread and
/// still below the smallest gap measured (0.89); the paper reports +25.0 MCC for XR-0's patch
/// embeddings over its CLS token on lead markers.
///
/// Phantom generator version 2 (larger, more frequent nodules) draws other images for the same
/// seed. Measured again on it (release build): CLS MLP 0.198, 0.102, 0.278; PE-conv 0.935, 0.812,
/// 0.914, so the smallest gap is now 0.53, close to the 0.5 asserted (the debug-build test passed).
@Suite struct PatchHeadScienceTests {
    static let spec = """
        experiment: science
        backbones:
          tiny: {kind: vit-tiny-random, seed: 4, resolution: 56}
        datasets:
          phantom: {kind: phantom, count: 300, seed: 9, size: 56}
        heads:
          cls-mlp: {kind: mlp, learning_rate: 1e-3, early_stop_patience: 25, max_epochs: 40}
          conv: {kind: pe-conv, width: 48, learning_rate: 3e-3, batch_size: 8, max_epochs: 40, early_stop_patience: 15, plateau_patience: 5}
        tasks:
          - name: marker
            kind: classification
            labels: [marker]
            metric: mcc
            matrix: {backbone: [tiny], dataset: [phantom], head: [cls-mlp, conv], features: [cls], seed: [0, 1, 2]}
        """

    @Test func peConvOnPatchTokensReadsTheLeadMarkerThatTheCLSTokenLoses() throws {
        let project = try RunnersProject()
        let report = try project.run(Self.spec)
        #expect(report.status == .succeeded, "\(report.summary)")
        func scores(_ head: String) throws -> [Double] {
            try project.query("SELECT value FROM latest_result WHERE head = '\(head)' AND metric = 'mcc' ORDER BY seed").rows
                .compactMap { $0.first?.doubleValue }
        }
        let mlp = try scores("cls-mlp"), conv = try scores("conv")
        #expect(mlp.count == 3 && conv.count == 3, "\(mlp) \(conv)")
        #expect((conv.min() ?? 0) - (mlp.max() ?? 1) >= 0.5, "PE-conv \(conv) vs CLS MLP \(mlp)")
    }
}

/// The nodule criterion: on phantom nodules (3 seeds, fixed data), the multitask head,
/// which also segments the nodule masks, is not worse than PE-conv by more than the seed spread,
/// and PE-conv reads nodule presence from the patch tokens well above chance, so the comparison
/// means something and the test can fail.
///
/// The setting is the patch-heads example's (Experiments/examples/patch-heads.yaml): the
/// random-weight ViT-Ti/14 at 112 px (8×8 tokens), 600 phantom radiographs (seed 9) with masks,
/// the same head settings. Nodule is a chest finding (half the chest studies have one to three
/// nodules), so about 240 images carry the label.
///
/// Measured (release build, the example's same cells in `make demo`): MCC of PE-conv 0.726, 0.676,
/// 0.657 (mean 0.686, standard deviation 0.036); of multitask 0.762, 0.754, 0.799 (mean 0.772,
/// 0.024). This debug-build test passed on this machine (7.5 min under load, most of it the
/// 112-px embedding). On the phantom before its nodules were made larger, brighter and balanced
/// (σ 1.6–2.8% of the side, peak 0.55–0.9, 35% of chest studies) and with 40% chest studies,
/// the example's PE-conv and multitask scored MCC 0.000 on every seed (main's demo tables), so
/// the first expectation fails there.
@Suite struct PatchHeadNoduleScienceTests {
    static let spec = """
        experiment: science-nodules
        backbones:
          tiny-112: {kind: vit-tiny-random, seed: 4, resolution: 112}
        datasets:
          phantom: {kind: phantom, count: 600, seed: 9, size: 112, chest_fraction: 0.6, masks: true}
        heads:
          pe-conv: {kind: pe-conv, width: 48, learning_rate: 3e-3, batch_size: 8, max_epochs: 60, early_stop_patience: 15}
          multitask: {kind: multitask, width: 48, learning_rate: 3e-3, batch_size: 8, max_epochs: 60, early_stop_patience: 15, mask_size: 56}
        tasks:
          - name: nodules
            kind: classification
            labels: [nodule]
            masks: [nodules]
            metric: mcc
            matrix: {backbone: [tiny-112], dataset: [phantom], head: [pe-conv, multitask], seed: [0, 1, 2]}
        """

    @Test func multitaskIsNotWorseThanPEConvOnNodulesBeyondTheSeedSpread() async throws {
        let project = try RunnersProject()
        // Minutes of engine work on a thread of its own, not on one of the few threads of Swift
        // concurrency's pool, which other suites' async tests need meanwhile (a command time-out).
        let report = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RunReport, any Error>) in
            Thread { continuation.resume(with: Result { try project.run(Self.spec) }) }.start()
        }
        #expect(report.status == .succeeded, "\(report.summary)")
        func scores(_ head: String) throws -> [Double] {
            try project.query("SELECT value FROM latest_result WHERE head = '\(head)' AND metric = 'mcc' ORDER BY seed").rows
                .compactMap { $0.first?.doubleValue }
        }
        let conv = try scores("pe-conv"), multitask = try scores("multitask")
        try #require(conv.count == 3 && multitask.count == 3, "\(conv) \(multitask)")
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        func standardDeviation(_ values: [Double]) -> Double {
            let centre = mean(values)
            return (values.map { ($0 - centre) * ($0 - centre) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
        }
        // The seed spread: the larger of the two heads' sample standard deviations over seeds.
        let spread = max(standardDeviation(conv), standardDeviation(multitask))
        #expect(mean(conv) > 0.3, "PE-conv must read nodules well above chance: \(conv)")
        #expect(mean(multitask) >= mean(conv) - spread, "multitask \(multitask) vs PE-conv \(conv), spread \(spread)")
    }
}
