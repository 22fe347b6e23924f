import Foundation
import Pipeline
import Testing

/// `ParameterValue(encoding:)` builds the tree directly; stage keys depend on it giving exactly
/// what the JSON round trip it replaced gave (`JSONEncoder`, then decoding a `ParameterValue`).
@Suite struct ParameterValueEncoderTests {
    enum Mode: String, Codable { case fast, slow }

    struct Inner: Codable {
        var name: String
        var weight: Float?
        var tags: [String]
    }

    struct Zoo: Codable {
        var whole: Double = 1
        var half: Double = 0.5
        var negativeZero: Double = -0.0
        var huge: Double = 1e20
        var large: Double = 123_456_789_012_345_680
        var tiny: Double = 1e-7
        var float: Float = 0.1
        var wholeFloat: Float = 2
        var integer: Int = -3
        var byte: UInt8 = 200
        var beyondInt: UInt64 = UInt64.max
        var flag: Bool = true
        var absent: Int? = nil
        var present: Int? = 4
        var mode: Mode = .slow
        var nested: [Inner] = [Inner(name: "a\tb\"c", weight: 0.3, tags: []), Inner(name: "é", weight: nil, tags: ["x", "y"])]
        var table: [String: [Double]] = ["b": [1, 2.5], "a": []]
        var counted: [Int: String] = [1: "one", 20: "twenty"]
        var parameters: ParameterValue = .object(["n": .number(2), "m": .number(2.5), "l": .list([.number(-1), .null, .bool(false)])])
        var url = URL(fileURLWithPath: "/data/x y.png")
        var bytes = Data([0, 1, 254, 255])
        var empty: [String: Int] = [:]
        var flags: [String: Bool] = ["on": true, "off": false]
        var counts: [String: Int] = ["one": 1]
        var ratios: [String: Double] = ["whole": 2, "half": 0.5]
        var floats: [String: Float] = ["tenth": 0.1]
        var optionals: [Int?] = [1, nil]
    }

    private func roundTrip<Value: Encodable>(_ value: Value) throws -> ParameterValue {
        try JSONDecoder().decode(ParameterValue.self, from: JSONEncoder().encode(value))
    }

    @Test func givesTheTreeOfTheJSONRoundTrip() throws {
        let direct = try ParameterValue(encoding: Zoo())
        let reference = try roundTrip(Zoo())
        #expect(direct == reference)
        #expect(direct.canonicalJSON == reference.canonicalJSON)
        #expect(direct["whole"] == .integer(1) && direct["float"] == .number(0.1) && direct["beyondInt"] == .number(1.8446744073709552e19))
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteNumbersAreAnError(value: Double) {
        #expect(throws: EncodingError.self) { _ = try ParameterValue(encoding: ["x": value]) }
    }

    @Test func topLevelScalarsAndListsToo() throws {
        #expect(try ParameterValue(encoding: 3.0) == roundTrip(3.0))
        #expect(try ParameterValue(encoding: [0.25, 4]) == roundTrip([0.25, 4]))
        #expect(try ParameterValue(encoding: "s") == roundTrip("s"))
        #expect(try ParameterValue(encoding: 3.0) == .integer(3))
    }
}
