/// Why Sesame's settings cannot be used: every problem found, each naming its key.
///
/// Its description lists them one per line, as `sesame.base.url (SESAME_BASE_URL): must be an https URL in
/// production, not http://app.example`, so that a failed start says what to fix in one go.
public struct SesameSettingsError: Error, CustomStringConvertible, Equatable {
    /// One setting's problem.
    public struct Problem: Sendable, Equatable {
        /// The configuration key (`sesame.base.url`).
        public let key: String
        /// What is wrong with it.
        public let message: String

        /// Creates a problem.
        ///
        /// - Parameters:
        ///   - key: The configuration key.
        ///   - message: What is wrong with it.
        public init(key: String, message: String) {
            self.key = key
            self.message = message
        }

        /// The environment variable the key is read from (`SESAME_BASE_URL`).
        public var environmentVariable: String {
            key.uppercased().replacingOccurrences(of: ".", with: "_")
        }
    }

    /// The problems, in the order the settings are read.
    public let problems: [Problem]

    /// Creates an error.
    ///
    /// - Parameter problems: The problems found.
    public init(problems: [Problem]) {
        self.problems = problems
    }

    /// One line per problem.
    public var description: String {
        problems.map { "\($0.key) (\($0.environmentVariable)): \($0.message)" }.joined(separator: "\n")
    }
}
