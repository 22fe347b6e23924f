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
    /// Samples appear in manifest (id) order, attributes sorted by key.
    /// - Complexity: O(total size of the manifest).
    public func canonicalSerialization() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(64 + samples.count * 160)
        func line(_ fields: [String]) {
            for (index, field) in fields.enumerated() {
                if index > 0 { output.append(UInt8(ascii: "\t")) }
                Self.appendEscaped(field, to: &output)
            }
            output.append(UInt8(ascii: "\n"))
        }
        line(["xrbench-manifest", "1"])
        line(["dataset", dataset])
        for definition in schema.labels {
            line(["label", definition.name, definition.kind.rawValue] + definition.classes)
        }
        let names = schema.names
        for sample in samples {
            var fields = ["sample", sample.id, sample.patientID, sample.studyID, sample.imagePath,
                          sample.officialSplit?.rawValue ?? ""]
            for name in names { fields.append(sample.label(name).canonicalText) }
            let keys = sample.attributes.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            fields.append(String(keys.count))
            for key in keys {
                fields.append(key)
                fields.append(sample.attributes[key] ?? "")
            }
            line(fields)
        }
        return output
    }

    private static func appendEscaped(_ text: String, to output: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: output.append(byte)
            }
        }
    }
}
