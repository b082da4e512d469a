/// The common passwords Sesame refuses: the 11,611 most frequent passwords of public leaks that are 8 characters
/// or longer (zxcvbn's list; see `scripts/generate-common-passwords`).
enum CommonPasswords {
    /// The list as a set, built on first use.
    static let set: Set<Substring> = Set(list.split(separator: "\n"))

    /// Whether `password` (already normalised) is on the list, ignoring case.
    static func contains(_ password: String) -> Bool {
        set.contains(Substring(password.lowercased()))
    }
}
