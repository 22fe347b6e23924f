#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Manifest {
    /// A byte-exact, canonical text form of the manifest, for content digests.
    ///
    /// Datasets cannot depend on a hash library, so the engine hashes these bytes (SHA-256).
    /// Two manifests with the same dataset name, schema and samples give identical bytes,
    /// whatever order their sources listed samples, labels or attributes in; `root` is left
    /// out so a moved dataset keeps its digest. UTF-8 lines, fields separated by tabs, each
    /// field escaped (`\` → `\\`, tab → `\t`, line feed → `\n`, carriage return → `\r`):
    ///
    ///     xrbench-manifest	1
    ///     dataset	<name>
    ///     label	<name>	binary
    ///     label	<name>	multiClass	<class 1>	<class 2>	…
    ///     sample	<id>	<patient>	<study>	<image path>	<split or empty>	<one LabelValue.canonicalText per schema label>	<attribute count>	<key>	<value>	…
    ///
    /// Samples appear in manifest (id) order, attributes sorted by key. A manifest with masks
    /// adds, after the labels, `segmentation	<exclusive or overlapping>	<class>	…`, and after each
    /// sample one line per class, in class order:
    ///
    ///     mask	<class>	empty
    ///     mask	<class>	file	<path>	nonzero | value=<v> | bit=<b>
    ///     mask	<class>	rle	<width>	<height>	<start> <length> …
    ///     mask	<class>	polygons	<width>	<height>	<x> <y> … ; <x> <y> …
    ///
    /// (coordinates in Swift's shortest round-tripping form), so manifests without masks keep
    /// their bytes.
    /// - Complexity: O(total size of the manifest).
    public func canonicalSerialization() -> [UInt8] {
        // Built as a String because its appends stay fast in debug builds; fields that need
        // escaping are rare and take the slow path.
        var output = ""
        output.reserveCapacity(64 + samples.count * 160)
        func append(_ fields: [String]) {
            var first = true
            for field in fields {
                if !first { output += "\t" }
                first = false
                Self.appendEscaped(field, to: &output)
            }
            output += "\n"
        }
        append(["xrbench-manifest", "1"])
        append(["dataset", dataset])
        for definition in schema.labels {
            append(["label", definition.name, definition.kind.rawValue] + definition.classes)
        }
        if let segmentation {
            append(["segmentation", segmentation.exclusive ? "exclusive" : "overlapping"] + segmentation.classes)
        }
        let names = schema.names
        for sample in samples {
            // Appended field by field, without an intermediate array, for speed in debug builds.
            output += "sample"
            for field in [sample.id, sample.patientID, sample.studyID, sample.imagePath] {
                output += "\t"
                Self.appendEscaped(field, to: &output)
            }
            output += "\t"
            output += sample.officialSplit?.rawValue ?? ""
            for name in names {
                output += "\t"
                Self.appendEscaped(sample.label(name).canonicalText, to: &output)
            }
            let keys = sample.attributes.keys.sorted()
            output += "\t"
            output += String(keys.count)
            for key in keys {
                output += "\t"
                Self.appendEscaped(key, to: &output)
                output += "\t"
                Self.appendEscaped(sample.attributes[key] ?? "", to: &output)
            }
            output += "\n"
            for name in segmentation?.classes ?? [] {
                append(["mask", name] + Self.fields(of: sample.masks?[name] ?? .empty))
            }
        }
        return output.utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(output.utf8)
    }

    /// The fields of a mask source's line in the canonical serialisation.
    private static func fields(of source: MaskSource) -> [String] {
        switch source {
        case .empty:
            return ["empty"]
        case .file(let path, let pixels):
            let rule = switch pixels {
            case .nonZero: "nonzero"
            case .value(let value): "value=\(value)"
            case .bit(let bit): "bit=\(bit)"
            }
            return ["file", path, rule]
        case .runLength(let mask):
            return ["rle", String(mask.width), String(mask.height), mask.runs.map(String.init).joined(separator: " ")]
        case .polygons(let mask):
            return ["polygons", String(mask.width), String(mask.height),
                    mask.polygons.map { $0.map { "\($0)" }.joined(separator: " ") }.joined(separator: " ; ")]
        }
    }

    private static func appendEscaped(_ field: String, to output: inout String) {
        var field = field
        let needsEscaping = field.withUTF8 { bytes -> Bool in
            guard let base = bytes.baseAddress else { return false }
            return memchr(base, 0x5C, bytes.count) != nil || memchr(base, 0x09, bytes.count) != nil
                || memchr(base, 0x0A, bytes.count) != nil || memchr(base, 0x0D, bytes.count) != nil
        }
        guard needsEscaping else {
            output += field
            return
        }
        for character in field.unicodeScalars {
            switch character {
            case "\\": output += "\\\\"
            case "\t": output += "\\t"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            default: output.unicodeScalars.append(character)
            }
        }
    }
}
