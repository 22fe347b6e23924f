import Foundation
import Tensor
import Testing
import TestSupport
@testable import Models

/// Every way a model folder can be wrong gives a typed error naming the file and key or tensor.
struct ModelLoadingErrorTests {
    /// Loads `folder` and returns the error it throws (recording an issue if it loads).
    func loadingError(_ folder: URL, sourceLocation: SourceLocation = #_sourceLocation) -> ModelLoadingError? {
        do {
            _ = try VisionTransformer(contentsOf: folder)
            Issue.record("loading \(folder.lastPathComponent) succeeded", sourceLocation: sourceLocation)
            return nil
        } catch let error as ModelLoadingError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    @Test func missingFolder() throws {
        let folder = try makeTemporaryDirectory().appendingPathComponent("no-such-model")
        let error = loadingError(folder)
        #expect(error == .folderNotFound(folder: folder.path))
        #expect(error?.description.contains("no-such-model") == true)
    }

    @Test func missingConfig() throws {
        let copy = try EditableModelFolder(copying: "dinov2_native")
        try FileManager.default.removeItem(at: copy.configFile)
        guard case .fileNotFound(let file, _) = loadingError(copy.folder) else { Issue.record("wrong case"); return }
        #expect(file == copy.configFile.path)
    }

    @Test func configThatIsNotJSON() throws {
        let copy = try EditableModelFolder(copying: "dinov2_native")
        try Data("{ hidden_size: 32".utf8).write(to: copy.configFile)
        guard case .configUnreadable(let file, _) = loadingError(copy.folder) else { Issue.record("wrong case"); return }
        #expect(file == copy.configFile.path)
    }

    /// (key, JSON value) pairs that make config.json invalid.
    @Test(arguments: [
        ("model_type", "\"vit\""), ("hidden_size", "\"32\""), ("num_attention_heads", "5"),
        ("hidden_act", "\"relu\""), ("image_size", "[16, 20]"), ("use_swiglu_ffn", "1"), ("patch_size", "-4"),
        ("layer_norm_eps", "0"), ("num_hidden_layers", "2.5"), ("interpolate_offset", "1.5"), ("interpolate_antialias", "\"yes\""),
    ])
    func invalidConfigField(_ key: String, _ json: String) throws {
        let copy = try EditableModelFolder(copying: "dinov2_native")
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
        try copy.editConfig { $0[key] = value }
        let error = loadingError(copy.folder)
        guard case .invalidConfigField(let file, let reportedKey, _, _) = error else {
            Issue.record("expected invalidConfigField for \(key), got \(String(describing: error))")
            return
        }
        #expect(file == copy.configFile.path)
        #expect(reportedKey == key)
        #expect(error?.description.contains(key) == true)
    }

    @Test func missingRequiredConfigField() throws {
        let copy = try EditableModelFolder(copying: "dinov2_native")
        try copy.editConfig { $0.removeValue(forKey: "hidden_size") }
        let error = loadingError(copy.folder)
        #expect(error == .invalidConfigField(file: copy.configFile.path, key: "hidden_size", problem: "is missing",
                                             fix: "add it from the checkpoint's original config.json"))
    }

    @Test func missingWeightsFile() throws {
        let copy = try EditableModelFolder(copying: "dinov2_native")
        try FileManager.default.removeItem(at: copy.weightsFile)
        guard case .fileNotFound(let file, _) = loadingError(copy.folder) else { Issue.record("wrong case"); return }
        #expect(file == copy.weightsFile.path)
    }

    @Test func corruptWeightsFile() throws {
        let copy = try EditableModelFolder(copying: "dinov2_native")
        try Data(repeating: 0xFF, count: 64).write(to: copy.weightsFile)
        guard case .weightsUnreadable(let file, _) = loadingError(copy.folder) else { Issue.record("wrong case"); return }
        #expect(file == copy.weightsFile.path)
    }

    @Test func missingTensor() throws {
        let copy = try EditableModelFolder(copying: "dinov2_native")
        try copy.editWeights { $0.removeValue(forKey: "encoder.layer.1.norm2.weight") }
        #expect(loadingError(copy.folder) == .missingTensor(file: copy.weightsFile.path,
                                                            name: "encoder.layer.1.norm2.weight", expectedShape: [32]))
    }

    @Test func missingPartOfFusedAttention() throws {
        let copy = try EditableModelFolder(copying: "dinov2_native")
        try copy.editWeights { $0.removeValue(forKey: "encoder.layer.0.attention.attention.key.weight") }
        #expect(loadingError(copy.folder) == .missingTensor(file: copy.weightsFile.path,
                                                            name: "encoder.layer.0.attention.attention.key.weight",
                                                            expectedShape: [32, 32]))
    }

    @Test func missingTensorInOriginalLayout() throws {
        let copy = try EditableModelFolder(copying: "original_layout")
        try copy.editWeights { $0.removeValue(forKey: "blocks.1.ls1.gamma") }
        #expect(loadingError(copy.folder) == .missingTensor(file: copy.weightsFile.path, name: "blocks.1.ls1.gamma",
                                                            expectedShape: [32]))
    }

    @Test func extraTensor() throws {
        let copy = try EditableModelFolder(copying: "dinov2_native")
        try copy.editWeights { $0["encoder.layer.2.norm1.weight"] = Tensor(zeros: [32]) }
        #expect(loadingError(copy.folder) == .unusedTensors(file: copy.weightsFile.path,
                                                            names: ["encoder.layer.2.norm1.weight"]))
    }

    @Test func twoTensorsForOneParameter() throws {
        // The same projection under its hub name and its transformers >= 5 name: the first rule
        // (hub name) wins, the other is left over.
        let copy = try EditableModelFolder(copying: "dinov2_native")
        try copy.editWeights { $0["encoder.layer.0.attention.o_proj.weight"] = $0["encoder.layer.0.attention.output.dense.weight"] }
        #expect(loadingError(copy.folder) == .unusedTensors(file: copy.weightsFile.path,
                                                            names: ["encoder.layer.0.attention.o_proj.weight"]))
    }

    @Test func misShapedTensor() throws {
        let copy = try EditableModelFolder(copying: "dinov2_registers")
        try copy.editWeights { $0["embeddings.register_tokens"] = Tensor(zeros: [1, 4, 32]) }
        #expect(loadingError(copy.folder) == .shapeMismatch(file: copy.weightsFile.path, name: "embeddings.register_tokens",
                                                            expected: [1, 3, 32], actual: [1, 4, 32]))
    }

    @Test func configDisagreeingWithWeights() throws {
        let copy = try EditableModelFolder(copying: "dinov2_swiglu")
        try copy.editConfig { $0["use_swiglu_ffn"] = false }
        let error = loadingError(copy.folder)
        // The plain MLP needs fc1; the file has the SwiGLU weights_in instead.
        #expect(error == .missingTensor(file: copy.weightsFile.path, name: "encoder.layer.0.mlp.fc1.weight",
                                        expectedShape: [128, 32]))
    }

    @Test func unknownKeyLayout() throws {
        let copy = try EditableModelFolder(copying: "dinov2_native")
        try writeFloat32Safetensors(["vision_model.weight": Tensor(zeros: [2])], to: copy.weightsFile)
        guard case .unknownWeightLayout(let file, let keys) = loadingError(copy.folder) else { Issue.record("wrong case"); return }
        #expect(file == copy.weightsFile.path)
        #expect(keys == ["vision_model.weight"])
    }

    @Test func rejectsPixelsOfTheWrongShape() throws {
        let model = try VisionTransformer(contentsOf: fixturesDirectory().appendingPathComponent("dinov2_native"))
        for shape in [[1, 3, 18, 16], [1, 1, 16, 16], [3, 16, 16], [1, 3, 0, 16]] {
            #expect(throws: ModelInputError.invalidPixelShape(shape: shape, channels: 3, patchSize: 4)) {
                _ = try model.forward(Tensor(zeros: shape))
            }
        }
    }
}
