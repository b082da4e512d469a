import Foundation

/// Email addresses as Sesame reads them: one check of what looks deliverable, two normal forms.
enum EmailAddress {
    /// The address trimmed and lowercased (as Auth.js compares addresses), the form the account model keys users by.
    ///
    /// - Parameter text: The address as a provider or a form gave it.
    /// - Returns: The normalised address, or `nil` when it does not look deliverable.
    static func normalized(_ text: String) -> String? {
        parts(text).map { "\($0.local)@\($0.domain)".lowercased() }
    }

    /// The address trimmed, with only its domain lowercased (the local part may be case-sensitive): where sign-in
    /// links are sent.
    ///
    /// - Parameter text: The address as a form gave it.
    /// - Returns: The address to send to, or `nil` when it does not look deliverable.
    static func deliverable(_ text: String) -> String? {
        parts(text).map { "\($0.local)@\($0.domain.lowercased())" }
    }

    /// The local part and domain of an address that looks deliverable: one `@`, a local part of at most 64 bytes,
    /// a dotted domain, at most 254 bytes, no control characters (C0, DEL, C1), spaces or the characters RFC 5322
    /// reserves.
    private static func parts(_ text: String) -> (local: Substring, domain: Substring)? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.utf8.count <= 254, let at = trimmed.lastIndex(of: "@") else { return nil }
        let local = trimmed[..<at], domain = trimmed[trimmed.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64, !local.contains("@"), !domain.isEmpty, domain.contains("."),
            !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains("..")
        else { return nil }
        let forbidden = "<>()[]\\,;:\"".unicodeScalars
        for scalar in trimmed.unicodeScalars where scalar.value <= 0x20 || (0x7F...0x9F).contains(scalar.value) || forbidden.contains(scalar) {
            return nil
        }
        return (local, domain)
    }
}
