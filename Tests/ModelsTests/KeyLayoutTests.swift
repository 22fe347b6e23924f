import Foundation
import Tensor
import Testing
import TestSupport
@testable import Models

/// The declarative key rules: every naming of the same weights gives the same model.
struct KeyLayoutTests {
    /// Forward output of a fixture folder (or an edited copy of it) on the fixture's own input.
    func tokens(of folder: URL, fixture: String) throws -> [Float] {
        let expected = try loadSafetensors(at: fixturesDirectory().appendingPathComponent("\(fixture)/expected.safetensors"))
        return try VisionTransformer(contentsOf: folder).forward(try #require(expected["pixel_values"])).tokens.scalars
    }

    @Test func chunkedOriginalBlocksLoad() throws {
        // Training checkpoints with block_chunks > 0 nest blocks as blocks.<chunk>.<layer>.
        let copy = try EditableModelFolder(copying: "original_layout")
        try copy.editWeights { tensors in
            tensors = Dictionary(uniqueKeysWithValues: tensors.map { name, tensor in
                guard name.hasPrefix("blocks.") else { return (name, tensor) }
                let layer = Int(name.split(separator: ".")[1])!
                return ("blocks.\(layer / 1)." + name.dropFirst("blocks.".count), tensor)
            })
        }
        let names = try loadSafetensors(at: copy.weightsFile).keys
        #expect(names.contains("blocks.1.1.ls1.gamma"))
        let original = try tokens(of: fixturesDirectory().appendingPathComponent("original_layout"), fixture: "original_layout")
        #expect(try tokens(of: copy.folder, fixture: "original_layout") == original)
    }

    @Test func transformersModuleNamesLoad() throws {
        // transformers >= 5 names its modules q_proj/k_proj/v_proj/o_proj and splits SwiGLU's
        // weights_in into gate_proj/up_proj; a state dict saved with those names must load too.
        let copy = try EditableModelFolder(copying: "dinov2_swiglu")
        try copy.editWeights { tensors in
            var renamed: [String: Tensor] = [:]
            for (name, tensor) in tensors {
                var newName = name
                for (old, new) in [("attention.attention.query", "attention.q_proj"), ("attention.attention.key", "attention.k_proj"),
                                   ("attention.attention.value", "attention.v_proj"), ("attention.output.dense", "attention.o_proj"),
                                   ("mlp.weights_out", "mlp.down_proj")] {
                    newName = newName.replacingOccurrences(of: old, with: new)
                }
                if newName.contains("mlp.weights_in") {
                    let half = tensor.shape[0] / 2
                    let rowLength = tensor.count / tensor.shape[0]
                    let scalars = tensor.scalars
                    var shape = tensor.shape
                    shape[0] = half
                    renamed[newName.replacingOccurrences(of: "weights_in", with: "gate_proj")] =
                        Tensor(shape: shape, scalars: Array(scalars[..<(half * rowLength)]))
                    renamed[newName.replacingOccurrences(of: "weights_in", with: "up_proj")] =
                        Tensor(shape: shape, scalars: Array(scalars[(half * rowLength)...]))
                } else {
                    renamed[newName] = tensor
                }
            }
            tensors = renamed
        }
        let names = try loadSafetensors(at: copy.weightsFile).keys
        #expect(names.contains("encoder.layer.0.mlp.gate_proj.weight"))
        #expect(names.contains("encoder.layer.1.attention.q_proj.bias"))
        let reference = try tokens(of: fixturesDirectory().appendingPathComponent("dinov2_swiglu"), fixture: "dinov2_swiglu")
        #expect(try tokens(of: copy.folder, fixture: "dinov2_swiglu") == reference)
    }

    @Test func patternsCaptureAndRender() throws {
        let pattern = KeyPattern("encoder.layer.{layer}.mlp.fc1.")
        let match = try #require(pattern.match("encoder.layer.11.mlp.fc1.weight"))
        #expect(match.captures == ["layer": "11"])
        #expect(match.suffix == "weight")
        #expect(KeyPattern("blocks.{layer}.mlp.fc1.").render(match.captures, suffix: match.suffix) == "blocks.11.mlp.fc1.weight")
        #expect(pattern.match("encoder.layer.x.mlp.fc1.weight") == nil)
        // A pattern without a trailing dot must match the whole name.
        #expect(KeyPattern("embeddings.cls_token").match("embeddings.cls_token_extra") == nil)
        #expect(KeyPattern("blocks.{chunk}.{layer}.").match("blocks.3.norm1.weight") == nil)
    }
}
