/// Encodes `Encodable` values into a ``JSONValue`` tree.
///
/// Optional properties that are `nil` are omitted (as with Foundation's `JSONEncoder`); non-finite floating
/// point numbers throw `EncodingError`.
struct JSONValueEncoder: Sendable {
    /// Creates an encoder.
    init() {}

    /// Encodes a value into a JSON tree.
    ///
    /// - Parameter value: The value to encode.
    /// - Returns: The JSON tree.
    /// - Throws: `EncodingError` for values JSON cannot represent.
    func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        let root = JSONTreeEncoder.Node()
        try value.encode(to: JSONTreeEncoder(node: root, codingPath: []))
        return root.value
    }
}

struct JSONTreeEncoder: Encoder {
    /// Mutable storage for one value under construction; containers hold their children by reference.
    final class Node {
        enum Content {
            case unset
            case leaf(JSONValue)
            case object([(key: String, node: Node)])
            case array([Node])
        }
        var content: Content = .unset

        var value: JSONValue {
            switch content {
            case .unset: return .object(JSONObject())
            case .leaf(let value): return value
            case .object(let members):
                var object = JSONObject()
                for member in members { object[member.key] = member.node.value }
                return .object(object)
            case .array(let nodes): return .array(nodes.map(\.value))
            }
        }

        func child(forKey key: String) -> Node {
            var members: [(key: String, node: Node)] = []
            if case .object(let existing) = content { members = existing }
            if let found = members.first(where: { $0.key == key }) { return found.node }
            let node = Node()
            members.append((key, node))
            content = .object(members)
            return node
        }

        func appendChild() -> Node {
            var nodes: [Node] = []
            if case .array(let existing) = content { nodes = existing }
            let node = Node()
            nodes.append(node)
            content = .array(nodes)
            return node
        }
    }

    let node: Node
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else { node.content = .object([]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleContainer(node: node, codingPath: codingPath) }

    static func encode<T: Encodable>(_ value: T, into node: Node, codingPath: [any CodingKey]) throws {
        switch value {
        case let json as JSONValue: node.content = .leaf(json)
        case let string as String: node.content = .leaf(.string(string))
        case let bool as Bool: node.content = .leaf(.bool(bool))
        case let int as Int: node.content = .leaf(.integer(Int64(int)))
        default: try value.encode(to: JSONTreeEncoder(node: node, codingPath: codingPath))
        }
    }

    static func number<T: BinaryFloatingPoint>(_ value: T, codingPath: [any CodingKey]) throws -> JSONValue {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "JSON has no non-finite numbers"))
        }
        return .double(Double(value))
    }

    static func integer<T: FixedWidthInteger>(_ value: T, codingPath: [any CodingKey]) throws -> JSONValue {
        guard let exact = Int64(exactly: value) else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "integer does not fit in 64 bits"))
        }
        return .integer(exact)
    }

    struct SingleContainer: SingleValueEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]
        mutating func encodeNil() throws { node.content = .leaf(.null) }
        mutating func encode(_ value: Bool) throws { node.content = .leaf(.bool(value)) }
        mutating func encode(_ value: String) throws { node.content = .leaf(.string(value)) }
        mutating func encode(_ value: Double) throws { node.content = .leaf(try number(value, codingPath: codingPath)) }
        mutating func encode(_ value: Float) throws { node.content = .leaf(try number(value, codingPath: codingPath)) }
        mutating func encode(_ value: Int) throws { node.content = .leaf(try integer(value, codingPath: codingPath)) }
        mutating func encode(_ value: Int8) throws { node.content = .leaf(try integer(value, codingPath: codingPath)) }
        mutating func encode(_ value: Int16) throws { node.content = .leaf(try integer(value, codingPath: codingPath)) }
        mutating func encode(_ value: Int32) throws { node.content = .leaf(try integer(value, codingPath: codingPath)) }
        mutating func encode(_ value: Int64) throws { node.content = .leaf(try integer(value, codingPath: codingPath)) }
        mutating func encode(_ value: UInt) throws { node.content = .leaf(try integer(value, codingPath: codingPath)) }
        mutating func encode(_ value: UInt8) throws { node.content = .leaf(try integer(value, codingPath: codingPath)) }
        mutating func encode(_ value: UInt16) throws { node.content = .leaf(try integer(value, codingPath: codingPath)) }
        mutating func encode(_ value: UInt32) throws { node.content = .leaf(try integer(value, codingPath: codingPath)) }
        mutating func encode(_ value: UInt64) throws { node.content = .leaf(try integer(value, codingPath: codingPath)) }
        mutating func encode<T: Encodable>(_ value: T) throws { try JSONTreeEncoder.encode(value, into: node, codingPath: codingPath) }
    }

    struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: Node
        let codingPath: [any CodingKey]

        func set(_ value: JSONValue, _ key: Key) { node.child(forKey: key.stringValue).content = .leaf(value) }

        mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
        mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { set(try number(value, codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: Float, forKey key: Key) throws { set(try number(value, codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { set(try integer(value, codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { set(try integer(value, codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { set(try integer(value, codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { set(try integer(value, codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { set(try integer(value, codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { set(try integer(value, codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { set(try integer(value, codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { set(try integer(value, codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { set(try integer(value, codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { set(try integer(value, codingPath: codingPath + [key]), key) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try JSONTreeEncoder.encode(value, into: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            JSONTreeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            JSONTreeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder {
            JSONTreeEncoder(node: node.child(forKey: "super"), codingPath: codingPath + [JSONCodingKey(stringValue: "super")])
        }
        mutating func superEncoder(forKey key: Key) -> any Encoder {
            JSONTreeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
        }
    }

    struct UnkeyedContainer: UnkeyedEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]
        var count: Int {
            if case .array(let nodes) = node.content { return nodes.count }
            return 0
        }

        func next() -> Node { node.appendChild() }
        var nextPath: [any CodingKey] { codingPath + [JSONCodingKey(intValue: count)] }

        mutating func encodeNil() throws { next().content = .leaf(.null) }
        mutating func encode(_ value: Bool) throws { next().content = .leaf(.bool(value)) }
        mutating func encode(_ value: String) throws { next().content = .leaf(.string(value)) }
        mutating func encode(_ value: Double) throws { next().content = .leaf(try number(value, codingPath: nextPath)) }
        mutating func encode(_ value: Float) throws { next().content = .leaf(try number(value, codingPath: nextPath)) }
        mutating func encode(_ value: Int) throws { next().content = .leaf(try integer(value, codingPath: nextPath)) }
        mutating func encode(_ value: Int8) throws { next().content = .leaf(try integer(value, codingPath: nextPath)) }
        mutating func encode(_ value: Int16) throws { next().content = .leaf(try integer(value, codingPath: nextPath)) }
        mutating func encode(_ value: Int32) throws { next().content = .leaf(try integer(value, codingPath: nextPath)) }
        mutating func encode(_ value: Int64) throws { next().content = .leaf(try integer(value, codingPath: nextPath)) }
        mutating func encode(_ value: UInt) throws { next().content = .leaf(try integer(value, codingPath: nextPath)) }
        mutating func encode(_ value: UInt8) throws { next().content = .leaf(try integer(value, codingPath: nextPath)) }
        mutating func encode(_ value: UInt16) throws { next().content = .leaf(try integer(value, codingPath: nextPath)) }
        mutating func encode(_ value: UInt32) throws { next().content = .leaf(try integer(value, codingPath: nextPath)) }
        mutating func encode(_ value: UInt64) throws { next().content = .leaf(try integer(value, codingPath: nextPath)) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            let path = nextPath
            try JSONTreeEncoder.encode(value, into: next(), codingPath: path)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let path = nextPath
            return JSONTreeEncoder(node: next(), codingPath: path).container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let path = nextPath
            return JSONTreeEncoder(node: next(), codingPath: path).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder {
            let path = nextPath
            return JSONTreeEncoder(node: next(), codingPath: path)
        }
    }
}
