import Foundation

/// Reads and writes JSON documents that hold a manifest, one sample at a time, so that memory
/// does not grow with the dataset by more than the samples themselves.
///
/// Decoding a whole document with `JSONDecoder` builds its tree first (about four times the
/// file's size: 28 MB for the 7.5 MB manifest of 20,000 phantom images), and encoding one builds
/// a tree of the value and the whole text; every stage that read a manifest held them. Here the
/// document around the samples (the "skeleton") goes through the coder as usual, and each sample
/// on its own, so the bytes are exactly those of the coder on the whole document. Decoded
/// samples share their label and attribute dictionaries (`SampleInterner`).
///
/// Anything the one-sample path cannot take (see `JSONArrayLocator`), or any error in it, makes
/// it decode the whole document as before, so bad input gets the same error as it always did.
public enum ManifestJSON {
    /// Decodes `type` from `data`, a JSON document whose manifest is at `manifest` in the value
    /// and at the object keys `path` in the text.
    /// - Parameter release: called with ranges of `data` whose bytes are not needed for now: the
    ///   whole document once it has been scanned for its samples, then (in order, about a
    ///   megabyte each) the samples decoded, which are not needed again unless an error sends the
    ///   whole document through the decoder after all. A caller that maps the file gives their
    ///   pages back (they are read again from the file if touched again).
    /// - Throws: what `decoder` throws for the whole document.
    /// - Complexity: O(size of the document); memory: the samples, the skeleton's tree, one
    ///   sample's tree at a time.
    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data, manifest: WritableKeyPath<Value, Manifest>,
                                                at path: [String], decoder: JSONDecoder = JSONDecoder(),
                                                release: (Range<Int>) -> Void = { _ in }) throws -> Value {
        let located = data.withUnsafeBytes { JSONArrayLocator(path: path + ["samples"], in: $0) }
        guard let located else { return try decoder.decode(type, from: data) }
        // The scan touched every page: at 20,000 samples, 6 MB of the file stayed resident while
        // the samples were decoded. Each page is read again when its samples are.
        release(0..<data.count)
        do {
            let start = data.startIndex
            var skeletonBytes = Data(data[start..<(start + located.array.lowerBound + 1)])
            skeletonBytes.append(data[(start + located.array.upperBound - 1)...])
            var value = try decoder.decode(type, from: skeletonBytes)
            skeletonBytes = Data()
            var interner = SampleInterner()
            var samples: [Sample] = []
            samples.reserveCapacity(located.elements.count)
            var released = 0
            for element in located.elements {
                let sample = try decoder.decode(Sample.self, from: data[(start + element.lowerBound)..<(start + element.upperBound)])
                samples.append(interner.intern(sample))
                if element.upperBound - released >= 1 << 20 {
                    release(released..<element.upperBound)
                    released = element.upperBound
                }
            }
            value[keyPath: manifest] = value[keyPath: manifest].replacingSamples(samples)
            return value
        } catch {
            // The whole document's error, with its coding path from the top.
            return try decoder.decode(type, from: data)
        }
    }

    /// Encodes `value`, whose manifest is at `manifest` (and at the object keys `path` in the
    /// text), handing the bytes to `write` in pieces: the same bytes as `encoder.encode(value)`.
    /// - Throws: what `encoder` or `write` throw.
    /// - Complexity: memory: the skeleton's text and one sample's at a time.
    public static func encode<Value: Encodable>(_ value: Value, manifest: WritableKeyPath<Value, Manifest>, at path: [String],
                                                encoder: JSONEncoder, to write: (Data) throws -> Void) throws {
        var skeleton = value
        let samples = value[keyPath: manifest].samples
        skeleton[keyPath: manifest] = value[keyPath: manifest].replacingSamples([])
        let text = try encoder.encode(skeleton)
        let located = text.withUnsafeBytes { JSONArrayLocator(path: path + ["samples"], in: $0) }
        guard let located, located.elements.isEmpty else {
            try write(try encoder.encode(value))
            return
        }
        let start = text.startIndex
        try write(text[start..<(start + located.array.lowerBound + 1)])
        for (index, sample) in samples.enumerated() {
            var bytes = index == 0 ? Data() : Data([0x2C])
            bytes.append(try encoder.encode(sample))
            try write(bytes)
        }
        try write(text[(start + located.array.upperBound - 1)...])
    }
}

/// Makes samples share equal label and attribute dictionaries: a manifest's samples mostly
/// repeat a few combinations, and each dictionary of its own costs hundreds of bytes (a
/// 20,000-sample phantom manifest held 15 MB of them).
struct SampleInterner {
    private var labels: Set<[String: LabelValue]> = []
    private var attributes: Set<[String: String]> = []

    /// `sample`, equal, with dictionaries shared with the samples interned before.
    mutating func intern(_ sample: Sample) -> Sample {
        Sample(sharing: sample, labels: Self.shared(sample.labels, in: &labels), attributes: Self.shared(sample.attributes, in: &attributes))
    }

    private static func shared<Element: Hashable>(_ value: Element, in pool: inout Set<Element>) -> Element {
        if let index = pool.firstIndex(of: value) { return pool[index] }
        pool.insert(value)
        return value
    }
}
