@testable import Datasets
import Foundation
import Testing
import TestSupport

/// A document shaped like the manifest artifact: keys sorted before and after the manifest.
private struct Wrapped: Codable, Equatable {
    var digests: [String?]
    var manifest: Manifest
    var rootInArtifact: Bool
}

private func sortedEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return encoder
}

/// The pieces `ManifestJSON.encode` hands out, joined.
private func pieces(_ value: Wrapped) throws -> (bytes: Data, count: Int) {
    var bytes = Data(), count = 0
    try ManifestJSON.encode(value, manifest: \.manifest, at: ["manifest"], encoder: sortedEncoder()) {
        bytes.append($0)
        count += 1
    }
    return (bytes, count)
}

/// A manifest with every kind of field: official splits, multi-class and uncertain labels,
/// attributes, masks of every source kind, issues, an image policy, and ids and paths that need
/// escaping in JSON (quotes, backslashes, brackets, slashes, tabs, non-ASCII).
private func awkwardManifest() throws -> Manifest {
    let schema = LabelSchema([.binary("finding"), .multiClass("view", classes: ["frontal", "lateral"])])
    let rle = try RunLengthMask(width: 4, height: 3, runs: [3, 2, 6, 4])
    let polygons = try PolygonMask(width: 8, height: 8, polygons: [[1, 1, 6, 1.5, 3, 6]])
    let ids = ["a\"quote", "b\\back]slash}", "c/slash\tTab", "d ü 肺", "e[plain{", "f"]
    let samples = ids.enumerated().map { index, id in
        Sample(id: id, patientID: index < 2 ? "p\"1" : "p\(index)", studyID: "\(id)-study", imagePath: "img/\(id).png",
               labels: ["finding": [.positive, .negative, .uncertain, .missing][index % 4],
                        "view": index % 3 == 0 ? .missing : .category(index % 2 == 0 ? "frontal" : "lateral")],
               attributes: index == 5 ? [:] : ["sex": index % 2 == 0 ? "female" : "male", "age": "\(30 + index)", "note": "}]\","],
               officialSplit: [nil, .train, .validation, .test][index % 4],
               masks: ["lung": [MaskSource.file(path: "m/\(id).png", pixels: .bit(index % 3)), .runLength(rle), .polygons(polygons), .empty][index % 4],
                       "heart": .file(path: "m/h.png", pixels: index % 2 == 0 ? .nonZero : .value(index))])
    }
    // Two ids of one patient on one image: a warning, so the manifest carries issues.
    let twin = Sample(id: "g", patientID: "p3", studyID: "g", imagePath: "img/d ü 肺.png", labels: [:],
                      masks: ["lung": .empty, "heart": .empty])
    let manifest = try Manifest(dataset: "awkward", root: URL(fileURLWithPath: "/data/x"), schema: schema,
                                samples: samples + [twin], segmentation: SegmentationSchema(classes: ["lung", "heart"], exclusive: false),
                                imagePolicy: ImagePathPolicy(allowsOutsideRoot: true))
    return manifest
}

@Suite struct ManifestJSONTests {
    /// Real manifests: a generated phantom dataset with masks and the awkward one above.
    func manifests() throws -> [Manifest] {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = PhantomOptions()
        options.imageSize = 32
        let phantom = try generatePhantomDataset(at: directory, count: 30, seed: 7, options: options, masks: true)
        return [phantom, try awkwardManifest(), phantom.filtered { _ in false }]
    }

    @Test func encodingInPiecesGivesTheEncodersBytes() throws {
        for manifest in try manifests() {
            let value = Wrapped(digests: manifest.samples.indices.map { $0 % 5 == 0 ? nil : "digest\($0)" }, manifest: manifest, rootInArtifact: true)
            let (bytes, count) = try pieces(value)
            #expect(bytes == (try sortedEncoder().encode(value)), "\(manifest.dataset)")
            // One piece per sample (and the text around them), not the whole document at once.
            #expect(count == manifest.samples.count + 2, "\(manifest.dataset)")
        }
    }

    @Test func decodingOneSampleAtATimeRoundTripsEveryField() throws {
        for manifest in try manifests() {
            #expect(manifest.samples.isEmpty || manifest.segmentation != nil)
            let value = Wrapped(digests: manifest.samples.map { _ in "d" }, manifest: manifest, rootInArtifact: false)
            let data = try sortedEncoder().encode(value)
            let decoded = try ManifestJSON.decode(Wrapped.self, from: data, manifest: \.manifest, at: ["manifest"])
            #expect(decoded == value, "\(manifest.dataset)")
            #expect(decoded == (try JSONDecoder().decode(Wrapped.self, from: data)))
            // Field by field, so a difference names what differs.
            for (read, written) in zip(decoded.manifest.samples, manifest.samples) {
                #expect(read.id == written.id && read.patientID == written.patientID && read.studyID == written.studyID)
                #expect(read.imagePath == written.imagePath && read.officialSplit == written.officialSplit)
                #expect(read.labels == written.labels && read.attributes == written.attributes && read.masks == written.masks)
            }
            #expect(decoded.manifest.issues == manifest.issues && decoded.manifest.imagePolicy == manifest.imagePolicy)
            #expect(decoded.manifest.canonicalSerialization() == manifest.canonicalSerialization())
            // Pretty-printed text (whitespace everywhere) takes the same path.
            let pretty = JSONEncoder()
            pretty.outputFormatting = [.prettyPrinted, .sortedKeys]
            #expect(try ManifestJSON.decode(Wrapped.self, from: try pretty.encode(value), manifest: \.manifest, at: ["manifest"]) == value)
        }
    }

    @Test func theWholeScannedDocumentIsReleasedBeforeSamplesAreDecoded() throws {
        let manifest = try awkwardManifest()
        let value = Wrapped(digests: manifest.samples.map { _ in "d" }, manifest: manifest, rootInArtifact: false)
        let data = try sortedEncoder().encode(value)
        var released: [Range<Int>] = []
        let decoded = try ManifestJSON.decode(Wrapped.self, from: data, manifest: \.manifest, at: ["manifest"]) { released.append($0) }
        #expect(decoded == value)
        #expect(released.first == 0..<data.count)
    }

    @Test func badDocumentsGetTheDecodersOwnError() throws {
        let manifest = try awkwardManifest()
        let text = String(decoding: try sortedEncoder().encode(Wrapped(digests: [], manifest: manifest, rootInArtifact: true)), as: UTF8.self)
        let broken = [
            String(text.dropLast(40)),                                                   // truncated
            text.replacingOccurrences(of: "\"finding\":\"1\"", with: "\"finding\":\"7\""),  // a label value no label has
            text.replacingOccurrences(of: "\"patientID\":\"p2\"", with: "\"patientID\":2"),  // a wrong type in one sample
            text.replacingOccurrences(of: "\"samples\":[", with: "\"samples\":{\"x\":[") + "}",  // samples not an array
            text.replacingOccurrences(of: "\"imagePath\":", with: "\"imageFile\":"),     // a missing key
            text + "x",                                                                  // trailing text
        ]
        for (index, document) in broken.enumerated() {
            #expect(document != text, "case \(index) changes the document")
            let data = Data(document.utf8)
            var expected = "", actual = ""
            do { _ = try JSONDecoder().decode(Wrapped.self, from: data) } catch { expected = "\(error)" }
            do { _ = try ManifestJSON.decode(Wrapped.self, from: data, manifest: \.manifest, at: ["manifest"]) } catch { actual = "\(error)" }
            #expect(!expected.isEmpty, "case \(index) is rejected")
            #expect(actual == expected, "case \(index)")
        }
    }

    @Test func decodedSamplesShareTheirDictionaries() throws {
        let samples = (0..<4).map { Sample(id: "s\($0)", patientID: "p", studyID: "s", imagePath: "\($0).png",
                                           labels: ["finding": .positive], attributes: ["sex": "female"]) }
        let manifest = try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: LabelSchema([.binary("finding")]), samples: samples)
        let data = try sortedEncoder().encode(Wrapped(digests: [], manifest: manifest, rootInArtifact: false))
        let decoded = try ManifestJSON.decode(Wrapped.self, from: data, manifest: \.manifest, at: ["manifest"]).manifest
        // Equal dictionaries share one storage: the same reference in every sample.
        let identities = Set(decoded.samples.map { sample in withUnsafeBytes(of: sample.labels) { Data($0) } })
        #expect(identities.count == 1)
        let attributes = Set(decoded.samples.map { sample in withUnsafeBytes(of: sample.attributes) { Data($0) } })
        #expect(attributes.count == 1)
        #expect(decoded.samples == manifest.samples)
    }
}

@Suite struct JSONArrayLocatorTests {
    func locate(_ text: String, _ path: [String]) -> [String]? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { buffer in
            JSONArrayLocator(path: path, in: buffer).map { located in
                located.elements.map { String(decoding: bytes[$0], as: UTF8.self) }
            }
        }
    }

    @Test func findsTheElementsOfTheArrayAtThePath() {
        let text = #" { "a" : [1, {"b": "]"}], "m": {"samples": [ {"x": "\"}\\"} , [ ] ,"s",  -1.5e3 ,true,null ], "z": {}} } "#
        #expect(locate(text, ["m", "samples"]) == [#"{"x": "\"}\\"}"#, "[ ]", #""s""#, "-1.5e3", "true", "null"])
        #expect(locate(#"{"m":{"samples":[]}}"#, ["m", "samples"]) == [])
        #expect(locate(#"{"samples":[{"samples":[1]}]}"#, ["samples"]) == [#"{"samples":[1]}"#])
    }

    @Test func anythingUnplainGivesNil() {
        for text in [
            #"{"m":{"samples":[1]},"m":{"samples":[2]}}"#,   // a key twice
            #"{"m":{"s\u0061mples":[1]}}"#,                  // a key written with an escape
            #"{"m":{"samples":[1]}} x"#,                      // text after the document
            #"{"m":{"samples":[1,}}"#,                        // ends early
            #"{"m":{"samples":{"a":1}}}"#,                    // not an array
            #"{"m":{"other":[1]}}"#,                          // no such key
            #"["m"]"#,                                        // not an object
            #"{"m":{"samples":[1 2]}}"#,                      // elements without a comma
            "",
        ] {
            #expect(locate(text, ["m", "samples"]) == nil, "\(text)")
        }
    }
}
