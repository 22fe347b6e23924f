import Foundation
import Tensor
import TestSupport
@testable import Models

/// Copies of fixture model folders, edited to exercise loading errors.
struct EditableModelFolder {
    /// The temporary copy.
    let folder: URL

    /// Copies the fixture model folder `name` into a fresh temporary directory.
    init(copying name: String) throws {
        let source = fixturesDirectory().appendingPathComponent(name)
        folder = try makeTemporaryDirectory("xrbench-models").appendingPathComponent(name)
        try FileManager.default.copyItem(at: source, to: folder)
    }

    var configFile: URL { folder.appendingPathComponent("config.json") }
    var weightsFile: URL { folder.appendingPathComponent("model.safetensors") }

    /// Rewrites config.json after `edit` changes its top-level object.
    func editConfig(_ edit: (inout [String: Any]) -> Void) throws {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: configFile)) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: configFile)
    }

    /// Rewrites model.safetensors after `edit` changes its tensors.
    func editWeights(_ edit: (inout [String: Tensor]) -> Void) throws {
        var tensors = try loadSafetensors(at: weightsFile)
        edit(&tensors)
        try writeFloat32Safetensors(tensors, to: weightsFile)
    }
}

/// Writes tensors as an F32 safetensors file (header JSON, then the data in name order).
func writeFloat32Safetensors(_ tensors: [String: Tensor], to url: URL) throws {
    var header = "{"
    var data = Data()
    for (index, name) in tensors.keys.sorted().enumerated() {
        let tensor = tensors[name]!
        let start = data.count
        tensor.withUnsafeBufferPointer { data.append(Data(buffer: $0)) }
        let shape = tensor.shape.map(String.init).joined(separator: ",")
        header += (index > 0 ? "," : "") + "\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(start),\(data.count)]}"
    }
    header += "}"
    while header.utf8.count % 8 != 0 { header += " " }
    var file = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { file.append(contentsOf: $0) }
    file.append(header.data(using: .utf8)!)
    file.append(data)
    try file.write(to: url)
}
