/// Where the PostgreSQL stores keep their tables: an optional schema and a table-name prefix.
///
/// The names are spliced into SQL (PostgreSQL cannot bind identifiers), so they are restricted to lowercase
/// ASCII letters, digits and underscores, and always double-quoted. With the default namespace the tables are
/// `sesame_sessions`, `sesame_replay`, `sesame_rate_limits`, `sesame_revoked_tokens` and
/// `sesame_subject_cutoffs` in the connection's `search_path` (usually `public`).
public struct PostgresTableNamespace: Sendable, Hashable {
    /// The schema holding the tables, or `nil` for the connection's current schema.
    public let schema: String?
    /// The prefix of every table and index name.
    public let prefix: String

    /// Tables named `sesame_…` in the connection's current schema.
    public static let `default` = PostgresTableNamespace(uncheckedSchema: nil, prefix: "sesame_")

    /// Why a schema or prefix was refused.
    public struct InvalidName: Error, Sendable, Equatable, CustomStringConvertible {
        /// The refused name.
        public let name: String

        /// A readable explanation.
        public var description: String {
            "invalid PostgreSQL name \"\(name)\": use lowercase letters, digits and underscores, not starting with a digit (at most 63 for a schema, 40 for a prefix)"
        }
    }

    /// Creates a namespace.
    ///
    /// - Parameters:
    ///   - schema: The schema for the tables (created by the stores' `migrate()` when missing), or `nil` for
    ///     the connection's current schema.
    ///   - prefix: The prefix of the table names, for example `sesame_` (may be empty).
    /// - Throws: ``InvalidName`` when the schema is empty or longer than 63 characters, the prefix is longer than
    ///   40 (the longest table and index names must stay within PostgreSQL's 63), or a name holds anything but
    ///   lowercase ASCII letters, digits and underscores, or starts with a digit.
    public init(schema: String? = nil, prefix: String = "sesame_") throws {
        if let schema, schema.isEmpty || !Self.isValid(schema, maximumLength: 63) { throw InvalidName(name: schema) }
        guard Self.isValid(prefix, maximumLength: 40) else { throw InvalidName(name: prefix) }
        self.init(uncheckedSchema: schema, prefix: prefix)
    }

    private init(uncheckedSchema schema: String?, prefix: String) {
        self.schema = schema
        self.prefix = prefix
    }

    private static func isValid(_ name: String, maximumLength: Int) -> Bool {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return true }
        guard bytes.count <= maximumLength, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[0]) else { return false }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
    }

    /// The quoted, schema-qualified name of a table, for example `"auth"."sesame_sessions"`.
    func table(_ name: String) -> String {
        let table = "\"\(prefix)\(name)\""
        guard let schema else { return table }
        return "\"\(schema)\".\(table)"
    }

    /// The quoted name of an index (indexes live in their table's schema, so it is never qualified).
    func index(_ name: String) -> String {
        "\"\(prefix)\(name)\""
    }

    /// `CREATE SCHEMA IF NOT EXISTS` for the namespace's schema, or `nil` when it has none.
    var createSchemaStatement: String? {
        schema.map { "CREATE SCHEMA IF NOT EXISTS \"\($0)\"" }
    }
}
