import Evaluation
import Foundation
import Random

/// Times one epoch of the paper's default MLP probe (768 → 512 → 256 → 5, ReLU, dropout 0.2,
/// batch 64, Adam) on 190,000 random CheXpert-sized embeddings, and 200 bootstrap replicates of
/// macro AUROC on 20,000 test samples × 5 labels. Compare the epoch with PyTorch's
/// `../shared/anchors/anchor_torch_mlp.py` run on the same machine.
///
/// - Returns: "probe epoch 190000x768 s" (the second, warmed-up epoch, named as the PyTorch
///   anchor's figure) and "bootstrap 200 macro AUROC 20000x5 s" (the faster of two runs).
func runProbeBench() -> BenchMeasurements {
    var measurements = BenchMeasurements()
    let samples = 190_000, width = 768, labels = 5
    var generator = SeededGenerator(seed: 2024)
    // Sum of uniforms: roughly normal, like the anchor's torch.randn, at a fraction of the cost.
    let features = (0..<(samples * width)).map { _ in
        (generator.nextUnitFloat() + generator.nextUnitFloat() + generator.nextUnitFloat() - 1.5) * 2
    }
    let targets = (0..<(samples * labels)).map { _ in generator.nextUnitDouble() > 0.7 ? 1.0 : 0.0 }
    let ids = (0..<samples).map { "s\($0)" }
    let train = ProbeData(features: features, width: width, targets: targets, sampleIDs: ids)
    let validation = ProbeData(features: Array(features[0..<(1000 * width)]), width: width,
                               targets: Array(targets[0..<(1000 * labels)]), sampleIDs: Array(ids[0..<1000]))
    let names = (0..<labels).map { "label\($0)" }
    do {
        let trainer = try ProbeTrainer(train: train, validation: validation, task: .multiLabel(names),
                                       head: .paperDefault, configuration: ProbeTrainingConfiguration(seed: 0),
                                       threads: ProcessInfo.processInfo.activeProcessorCount)
        for epoch in 0..<2 {
            let start = ContinuousClock.now, startCPU = processCPUSeconds()
            let loss = try trainer.trainEpoch()
            let elapsed = seconds(since: start), cpu = processCPUSeconds() - startCPU
            // CPU seconds beside wall seconds: on a shared machine the wall time alone mostly measures the neighbours.
            print(String(format: "probe MLP epoch %d: %.2f s, %.2f CPU s (%d samples, batch 64, loss %.4f)",
                         epoch, elapsed, cpu, samples, loss))
            if epoch == 1 { measurements.record("probe epoch 190000x768 s", elapsed, higherIsBetter: false) }
        }
    } catch {
        print("probe bench failed: \(error)")
    }

    let testSamples = 20_000
    let testTargets = (0..<(testSamples * labels)).map { _ in generator.nextUnitDouble() > 0.8 ? 1.0 : 0.0 }
    let testScores = testTargets.map { target in
        ((generator.nextUnitDouble() + 0.3 * target) * 1000).rounded() / 1000
    }
    let patients = (0..<testSamples).map { "p\($0 / 2)" }
    do {
        var fastest = Double.infinity
        for run in 0..<2 {
            let start = ContinuousClock.now
            let resampler = try BootstrapResampler(sampleCount: testSamples, patientIDs: patients, seed: 7)
            let result = try bootstrapMacroAUROC(targets: testTargets, scores: testScores, labels: names, resampler: resampler,
                                                 configuration: BootstrapConfiguration(replicates: 200, seed: 7))
            let elapsed = seconds(since: start)
            fastest = min(fastest, elapsed)
            let interval = result.interval.map { String(format: "[%.4f, %.4f]", $0.lowerBound, $0.upperBound) } ?? "none"
            print(String(format: "bootstrap macro AUROC run %d: %.3f s", run, elapsed)
                  + " (200 replicates, \(testSamples) samples x \(labels) labels, 95% CI \(interval))")
        }
        measurements.record("bootstrap 200 macro AUROC 20000x5 s", fastest, higherIsBetter: false)
    } catch {
        print("bootstrap bench failed: \(error)")
    }
    return measurements
}

/// User plus system CPU time of this process so far, in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
