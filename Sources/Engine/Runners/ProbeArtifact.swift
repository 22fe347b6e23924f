import Evaluation
import Foundation

/// The `probe` artifact: the trained head's test predictions (`probe.json`) and its weights
/// (`head.safetensors`).
struct ProbeArtifact: Codable {
    static let fileName = "probe.json"
    static let weightsFile = "head.safetensors"

    /// `multilabel` or `multiclass`.
    var target: String
    /// Output names: the trained labels (multi-label) or the classes (multi-class).
    var outputs: [String]
    /// The task's label names as the spec lists them.
    var labels: [String]
    /// Labels the training set could not train (one class only), with the reason; they have no outputs.
    var untrainable: [String: String] = [:]
    /// Manifest row indices of the scored test samples, ascending.
    var testIndices: [Int] = []
    /// Their sample ids.
    var testIDs: [String] = []
    /// Row-major `[test, outputs]` probabilities.
    var scores: [Double] = []
    /// Row-major `[test, outputs]` truths: 0/1 (one-hot for multi-class), nil where unknown.
    var targets: [Double?] = []
    /// Samples trained and validated on.
    var trainCount = 0
    var validationCount = 0
    /// Epochs run, the kept epoch, and whether early stopping ended training.
    var epochs = 0
    var bestEpoch = 0
    var stoppedEarly = false
    /// Why no probe could be trained, when that is so (then there are no predictions).
    var notComputable: String?
    /// Every epoch run: training and validation loss, validation score, learning rate (empty
    /// for a head that does not train).
    var curve: [ProbeEpoch] = []
    /// What the curve's validation score is (`auroc`, `negative-loss`).
    var validationMetric: String?
    /// A segmenting head's per-test-sample mask scores (and `predicted-masks.bin` beside); nil
    /// for other heads.
    var segmentation: ProbeSegmentation?

    var isMulticlass: Bool { target == "multiclass" }

    static func read(from directory: URL) throws -> ProbeArtifact {
        try ArtifactJSON.read(ProbeArtifact.self, from: directory, name: fileName)
    }
}
