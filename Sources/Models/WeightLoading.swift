import Foundation
import Tensor

// Weight loading in three steps: read the file into `[String: Tensor]` (Tensor's safetensors
// reader, memory-mapped), rename the keys to the canonical layout with the declarative rules
// of `WeightKeyRules.swift`, then apply them to the explicit parameter structs with strict
// verification (`ViTParameters+Apply.swift`).

/// Tensors renamed to the canonical layout, remembering the file's own names for messages.
struct CanonicalWeights {
    /// Tensors under canonical (facebookresearch/dinov2) names.
    var tensors: [String: Tensor]
    /// For each canonical name, the name(s) it had in the file.
    var sources: [String: [String]]
    /// The layout the file was in.
    var layout: WeightLayout
    /// The weights file, for error messages.
    var file: String
    /// Every tensor name the file holds.
    var fileNames: Set<String>

    /// The file's name for a canonical tensor: where it came from, or for a tensor that is
    /// missing, the name the file's layout would have given it.
    func sourceName(of canonical: String) -> String {
        if let names = sources[canonical] { return names.joined(separator: " + ") }
        return missingSource(of: canonical, shape: []).name
    }

    /// For a fused canonical tensor (q, k, v) whose parts are all in the file but could not be
    /// fused because their shapes disagree: the parts as the file names them, with their shapes.
    func unfusableParts(of canonical: String) -> [(name: String, shape: [Int])]? {
        guard layout != .original else { return nil }
        for rule in layout.rules {
            guard case .fuse(let parts, let into) = rule,
                  let (captures, suffix) = KeyPattern(into).match(canonical) else { continue }
            let names = parts.map { KeyPattern($0).render(captures, suffix: suffix) }
            let pieces = names.compactMap { name in tensors[name].map { (name: name, shape: $0.shape) } }
            return pieces.count == names.count ? pieces : nil
        }
        return nil
    }

    /// For a canonical tensor the file lacks: the file-layout name(s) and shape it should have
    /// had. For a fused tensor (q, k, v) of which the file holds some parts, only the absent
    /// parts are named, with the shape of one part.
    func missingSource(of canonical: String, shape: [Int]) -> (name: String, shape: [Int]) {
        guard layout != .original else { return (canonical, shape) }
        var fallback: (name: String, shape: [Int])?
        for rule in layout.rules {
            switch rule {
            case .rename(let from, let to):
                if let (captures, suffix) = KeyPattern(to).match(canonical) {
                    fallback = fallback ?? (KeyPattern(from).render(captures, suffix: suffix), shape)
                }
            case .fuse(let parts, let into):
                if let (captures, suffix) = KeyPattern(into).match(canonical) {
                    let names = parts.map { KeyPattern($0).render(captures, suffix: suffix) }
                    let partShape = shape.isEmpty ? shape : [shape[0] / parts.count] + shape.dropFirst()
                    let absent = names.filter { !fileNames.contains($0) }
                    if absent.count < names.count { return (absent.joined(separator: " + "), partShape) }
                    fallback = fallback ?? (names.joined(separator: " + "), partShape)
                }
            }
        }
        return fallback ?? (canonical, shape)
    }
}

/// Renames `tensors` from `layout` to the canonical layout by the layout's rule list.
///
/// A name no rule matches keeps its name (and is reported as unused later if the model has no
/// such parameter). Parts of a fusion that lack a sibling or disagree in shape are left as they
/// are, so that the verification step reports the missing fused tensor by its file names.
func canonicalize(_ tensors: [String: Tensor], layout: WeightLayout, file: String) -> CanonicalWeights {
    var remaining = tensors
    var result = CanonicalWeights(tensors: [:], sources: [:], layout: layout, file: file, fileNames: Set(tensors.keys))
    for rule in layout.rules {
        switch rule {
        case .rename(let from, let to):
            let source = KeyPattern(from)
            let target = KeyPattern(to)
            for name in remaining.keys.sorted() {
                guard let (captures, suffix) = source.match(name) else { continue }
                let canonical = target.render(captures, suffix: suffix)
                // A second file tensor for the same parameter stays behind and is reported unused.
                guard result.tensors[canonical] == nil else { continue }
                result.tensors[canonical] = remaining.removeValue(forKey: name)
                result.sources[canonical] = [name]
            }
        case .fuse(let parts, let into):
            let patterns = parts.map(KeyPattern.init)
            let target = KeyPattern(into)
            for name in remaining.keys.sorted() {
                guard let (captures, suffix) = patterns[0].match(name) else { continue }
                let names = patterns.map { $0.render(captures, suffix: suffix) }
                let pieces = names.compactMap { remaining[$0] }
                guard pieces.count == names.count,
                      Set(pieces.map { Array($0.shape.dropFirst()) }).count == 1 else { continue }
                let canonical = target.render(captures, suffix: suffix)
                guard result.tensors[canonical] == nil else { continue }
                result.tensors[canonical] = concatenateRows(pieces)
                result.sources[canonical] = names
                for part in names { remaining.removeValue(forKey: part) }
            }
        }
    }
    for (name, tensor) in remaining {
        // Unmatched names pass through (verification reports them as unused); one that collides
        // with a renamed tensor gets a distinct key so that neither is silently dropped.
        let key = result.tensors[name] == nil ? name : "\(name) (duplicate)"
        result.tensors[key] = tensor
        result.sources[key] = [name]
    }
    return result
}

/// Stacks tensors along their first axis (e.g. q, k, v weights `[D, D]` into `[3D, D]`).
func concatenateRows(_ pieces: [Tensor]) -> Tensor {
    var shape = pieces[0].shape
    shape[0] = pieces.reduce(0) { $0 + $1.shape[0] }
    var fused = Tensor(zeros: shape)
    fused.withUnsafeMutableBufferPointer { destination in
        var offset = 0
        for piece in pieces {
            piece.withUnsafeBufferPointer { source in
                (destination.baseAddress! + offset).update(from: source.baseAddress!, count: source.count)
                offset += source.count
            }
        }
    }
    return fused
}

/// Reads a safetensors file, turning its errors into `ModelLoadingError.weightsUnreadable`.
func readWeights(at file: URL) throws -> [String: Tensor] {
    guard FileManager.default.fileExists(atPath: file.path) else {
        throw ModelLoadingError.fileNotFound(file: file.path, role: "the weights (safetensors)")
    }
    do {
        return try loadSafetensors(at: file)
    } catch {
        throw ModelLoadingError.weightsUnreadable(file: file.path, reason: "\(error)")
    }
}
