import Foundation

/// Email addresses as the account model compares them.
enum EmailAddress {
    /// The address trimmed and lowercased (as Auth.js compares addresses), if it looks like a deliverable
    /// address: one `@`, a local part of at most 64 bytes, a dotted domain, at most 254 bytes, no controls,
    /// spaces or the characters RFC 5322 reserves.
    ///
    /// - Parameter text: The address as a provider or a form gave it.
    /// - Returns: The normalised address, or `nil`.
    static func normalized(_ text: String) -> String? {
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
        return trimmed.lowercased()
    }
}
