import Foundation

/// Encodes `Encodable` values straight into a `ParameterValue`, giving exactly what encoding to
/// JSON with `JSONEncoder` and decoding that as a `ParameterValue` gave (the stage keys depend
/// on it), without the text in between: compiling a 100,000-stage spec spent most of its time
/// there. The rules that round trip implied:
/// - a `Double` (or `Float`, read from its shortest decimal form as JSON writes it) that is a
///   whole number within `Int`'s range becomes `.integer`, any other finite one `.number`;
///   non-finite numbers are an error, as JSON has no spelling for them;
/// - unsigned integers beyond `Int.max` become `.number`;
/// - `nil` written by `encodeNil` is `.null`; absent optionals leave their key out; a nested
///   value that writes nothing is an empty object;
/// - `URL` and `Data` are strings (the absolute URL, Base64), as `JSONEncoder` writes them;
/// - a `ParameterValue` is taken as it is, its numbers normalised by the first rule.
struct ParameterValueEncoder {
    /// The encoded value.
    /// - Throws: `EncodingError.invalidValue` for a non-finite number or a value that encodes nothing.
    static func encode(_ value: some Encodable) throws -> ParameterValue {
        let encoder = TreeEncoder(codingPath: [])
        try value.encode(to: encoder)
        guard let result = encoder.slot.value else {
            throw EncodingError.invalidValue(value, EncodingError.Context(codingPath: [], debugDescription: "the value encoded nothing"))
        }
        return result
    }
}

/// A place an encoded value goes: a scalar, or a keyed or unkeyed container filled later.
private final class Slot {
    enum Content {
        case empty
        case scalar(ParameterValue)
        case object([(String, Slot)])
        case list([Slot])
    }

    var content: Content = .empty

    var value: ParameterValue? {
        switch content {
        case .empty: return nil
        case .scalar(let value): return value
        case .object(let fields):
            var object: [String: ParameterValue] = [:]
            object.reserveCapacity(fields.count)
            for (key, slot) in fields { object[key] = slot.value ?? .object([:]) }
            return .object(object)
        case .list(let items): return .list(items.map { $0.value ?? .object([:]) })
        }
    }

    func object() -> Slot {
        if case .object = content { return self }
        content = .object([])
        return self
    }

    func list() -> Slot {
        if case .list = content { return self }
        content = .list([])
        return self
    }

    func child(forKey key: String) -> Slot {
        let slot = Slot()
        if case .object(var fields) = content {
            content = .empty  // keeps `fields` uniquely referenced while it grows
            fields.append((key, slot))  // a key written twice: the last one wins, as in JSON decoding
            content = .object(fields)
        }
        return slot
    }

    func appendChild() -> Slot {
        let slot = Slot()
        if case .list(var items) = content {
            content = .empty
            items.append(slot)
            content = .list(items)
        }
        return slot
    }
}

private final class TreeEncoder: Encoder {
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any] = [:]
    let slot: Slot

    init(codingPath: [any CodingKey], slot: Slot = Slot()) {
        self.codingPath = codingPath
        self.slot = slot
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedContainer<Key>(codingPath: codingPath, slot: slot.object()))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedContainer(codingPath: codingPath, slot: slot.list())
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(codingPath: codingPath, slot: slot)
    }
}

/// Scalars as the JSON round trip turned them into `ParameterValue`s.
private enum Scalars {
    static func number(_ value: Double, at codingPath: [any CodingKey]) throws -> ParameterValue {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, EncodingError.Context(codingPath: codingPath, debugDescription: "\(value) is not a JSON number"))
        }
        if let whole = Int(exactly: value) { return .integer(whole) }
        return .number(value)
    }

    static func float(_ value: Float, at codingPath: [any CodingKey]) throws -> ParameterValue {
        guard value.isFinite else { return try number(Double(value), at: codingPath) }
        // JSON carries a Float as its shortest decimal form, which is then read as a Double.
        return try number(Double(value.description) ?? Double(value), at: codingPath)
    }

    /// A `ParameterValue` as it comes back from JSON: whole `.number`s become `.integer`s.
    static func normalised(_ value: ParameterValue, at codingPath: [any CodingKey]) throws -> ParameterValue {
        switch value {
        case .number(let number): return try Self.number(number, at: codingPath)
        case .list(let items): return .list(try items.map { try normalised($0, at: codingPath) })
        case .object(let fields): return .object(try fields.mapValues { try normalised($0, at: codingPath) })
        case .null, .bool, .integer, .string: return value
        }
    }

    static func unsigned<Value: UnsignedInteger & FixedWidthInteger>(_ value: Value) -> ParameterValue {
        if let small = Int(exactly: value) { return .integer(small) }
        return .number(Double(value))
    }

    /// A nested value: encoded through a child encoder.
    static func nested(_ value: some Encodable, into slot: Slot, at codingPath: [any CodingKey]) throws {
        // Scalars reached through generic code (dictionary values, generic wrappers); Bool first,
        // so that no platform's bridging can read it as a number.
        switch value {
        case let flag as Bool: slot.content = .scalar(.bool(flag))
        case let number as Int: slot.content = .scalar(.integer(number))
        case let number as Double: slot.content = .scalar(try Self.number(number, at: codingPath))
        case let number as Float: slot.content = .scalar(try float(number, at: codingPath))
        case let text as String: slot.content = .scalar(.string(text))
        case let parameter as ParameterValue: slot.content = .scalar(try normalised(parameter, at: codingPath))
        case let url as URL: slot.content = .scalar(.string(url.absoluteString))
        case let data as Data: slot.content = .scalar(.string(data.base64EncodedString()))
        default: try value.encode(to: TreeEncoder(codingPath: codingPath, slot: slot))
        }
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let codingPath: [any CodingKey]
    let slot: Slot

    private func put(_ value: ParameterValue, _ key: Key) {
        slot.child(forKey: key.stringValue).content = .scalar(value)
    }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(try Scalars.number(value, at: codingPath + [key]), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(try Scalars.float(value, at: codingPath + [key]), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(.integer(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(.integer(Int(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(.integer(Int(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(.integer(Int(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(.integer(Int(value)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(Scalars.unsigned(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(Scalars.unsigned(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(Scalars.unsigned(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(Scalars.unsigned(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(Scalars.unsigned(value), key) }

    mutating func encode<Value: Encodable>(_ value: Value, forKey key: Key) throws {
        try Scalars.nested(value, into: slot.child(forKey: key.stringValue), at: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(KeyedContainer<NestedKey>(codingPath: codingPath + [key], slot: slot.child(forKey: key.stringValue).object()))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        UnkeyedContainer(codingPath: codingPath + [key], slot: slot.child(forKey: key.stringValue).list())
    }

    mutating func superEncoder() -> any Encoder {
        TreeEncoder(codingPath: codingPath, slot: slot.child(forKey: "super"))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TreeEncoder(codingPath: codingPath + [key], slot: slot.child(forKey: key.stringValue))
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String { "Index \(intValue ?? 0)" }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let codingPath: [any CodingKey]
    let slot: Slot

    var count: Int {
        if case .list(let items) = slot.content { return items.count }
        return 0
    }

    private var nextPath: [any CodingKey] { codingPath + [IndexKey(count)] }

    private func append(_ value: ParameterValue) {
        slot.appendChild().content = .scalar(value)
    }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(try Scalars.number(value, at: nextPath)) }
    mutating func encode(_ value: Float) throws { append(try Scalars.float(value, at: nextPath)) }
    mutating func encode(_ value: Int) throws { append(.integer(value)) }
    mutating func encode(_ value: Int8) throws { append(.integer(Int(value))) }
    mutating func encode(_ value: Int16) throws { append(.integer(Int(value))) }
    mutating func encode(_ value: Int32) throws { append(.integer(Int(value))) }
    mutating func encode(_ value: Int64) throws { append(.integer(Int(value))) }
    mutating func encode(_ value: UInt) throws { append(Scalars.unsigned(value)) }
    mutating func encode(_ value: UInt8) throws { append(Scalars.unsigned(value)) }
    mutating func encode(_ value: UInt16) throws { append(Scalars.unsigned(value)) }
    mutating func encode(_ value: UInt32) throws { append(Scalars.unsigned(value)) }
    mutating func encode(_ value: UInt64) throws { append(Scalars.unsigned(value)) }

    mutating func encode<Value: Encodable>(_ value: Value) throws {
        let path = nextPath
        try Scalars.nested(value, into: slot.appendChild(), at: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = nextPath
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(codingPath: path, slot: slot.appendChild().object()))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = nextPath
        return UnkeyedContainer(codingPath: path, slot: slot.appendChild().list())
    }

    mutating func superEncoder() -> any Encoder {
        let path = nextPath
        return TreeEncoder(codingPath: path, slot: slot.appendChild())
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let codingPath: [any CodingKey]
    let slot: Slot

    private func set(_ value: ParameterValue) {
        slot.content = .scalar(value)
    }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(try Scalars.number(value, at: codingPath)) }
    mutating func encode(_ value: Float) throws { set(try Scalars.float(value, at: codingPath)) }
    mutating func encode(_ value: Int) throws { set(.integer(value)) }
    mutating func encode(_ value: Int8) throws { set(.integer(Int(value))) }
    mutating func encode(_ value: Int16) throws { set(.integer(Int(value))) }
    mutating func encode(_ value: Int32) throws { set(.integer(Int(value))) }
    mutating func encode(_ value: Int64) throws { set(.integer(Int(value))) }
    mutating func encode(_ value: UInt) throws { set(Scalars.unsigned(value)) }
    mutating func encode(_ value: UInt8) throws { set(Scalars.unsigned(value)) }
    mutating func encode(_ value: UInt16) throws { set(Scalars.unsigned(value)) }
    mutating func encode(_ value: UInt32) throws { set(Scalars.unsigned(value)) }
    mutating func encode(_ value: UInt64) throws { set(Scalars.unsigned(value)) }

    mutating func encode<Value: Encodable>(_ value: Value) throws {
        try Scalars.nested(value, into: slot, at: codingPath)
    }
}
