/// Parameters in `application/x-www-form-urlencoded` form, as in query strings and form posts.
///
/// Parsing is lenient about structure (empty pairs are skipped) and strict about content: a malformed percent
/// escape or invalid UTF-8 makes that value unreadable rather than silently altered.
public struct URLEncodedForm: Sendable, Hashable, Sequence {
    /// The name-value pairs, in order; a name may repeat.
    public private(set) var pairs: [(name: String, value: String)]

    /// Creates an empty form.
    public init() { pairs = [] }

    /// Creates a form from pairs.
    public init(_ pairs: [(name: String, value: String)]) { self.pairs = pairs }

    /// Parses encoded text (without a leading `?`).
    public init(parsing text: some StringProtocol) {
        pairs = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = URLEncodedForm.decode(parts[0]), !name.isEmpty,
                let value = URLEncodedForm.decode(parts.count > 1 ? parts[1] : "")
            else { continue }
            pairs.append((name, value))
        }
    }

    /// The first value for `name`.
    public subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// All values for `name`.
    public func values(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// This form with `other`'s values replacing (or adding to) its own, name by name.
    public func merging(_ other: URLEncodedForm) -> URLEncodedForm {
        let replaced = Set(other.pairs.map(\.name))
        return URLEncodedForm(pairs.filter { !replaced.contains($0.name) } + other.pairs)
    }

    /// Iterates over the pairs.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { pairs.makeIterator() }

    /// The encoded text of the pairs.
    public var encoded: String {
        pairs.map { "\($0.name.addingPercentEncodingForQuery())=\($0.value.addingPercentEncodingForQuery())" }.joined(separator: "&")
    }

    public static func == (lhs: URLEncodedForm, rhs: URLEncodedForm) -> Bool {
        lhs.pairs.count == rhs.pairs.count && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for pair in pairs {
            hasher.combine(pair.name)
            hasher.combine(pair.value)
        }
    }

    /// `url` with `name=value` added to its query, keeping the query it has and its fragment at the end.
    public static func appending(name: String, value: String, to url: String) -> String {
        let fragmentStart = url.firstIndex(of: "#") ?? url.endIndex
        let base = url[..<fragmentStart]
        let fragment = url[fragmentStart...]
        let separator = base.contains("?") ? (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&") : "?"
        return "\(base)\(separator)\(name.addingPercentEncodingForQuery())=\(value.addingPercentEncodingForQuery())\(fragment)"
    }

    static func decode(_ text: some StringProtocol) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
