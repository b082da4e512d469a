import Foundation

/// A person who signs in: Auth.js's `User`, with a stable ID that Sesame generates.
///
/// The email address is optional (some providers share none) and unique among users when present; it is kept
/// normalised (trimmed, lowercased). Times are kept to the millisecond, as stores keep them. `emailVerified` is when the address was last proven: by a sign-in link, or
/// by a provider that verifies addresses. The app's own fields travel as a `Codable` ``payload(as:)``.
public struct AuthUser: Sendable, Hashable {
    /// The user's ID: 128 random bits, base64url.
    public let id: String
    /// The normalised email address, if known.
    public private(set) var email: String?
    /// When the address was proven, or `nil` while it is not.
    public var emailVerified: Date?
    /// A display name.
    public var name: String?
    /// A picture URL.
    public var image: String?
    /// When the user was created.
    public let createdAt: Date
    /// When the user last changed.
    public var updatedAt: Date
    /// The app's own fields, as JSON (see ``payload(as:)``).
    public var payloadJSON: [UInt8]?

    /// Creates a user with a new ID.
    ///
    /// - Parameters:
    ///   - email: The address (normalised here; one that does not look like an address is dropped).
    ///   - emailVerified: When the address was proven, if it was.
    ///   - name: A display name.
    ///   - image: A picture URL.
    ///   - now: The creation time.
    public init(email: String? = nil, emailVerified: Date? = nil, name: String? = nil, image: String? = nil, now: Date = Date()) {
        let now = now.wholeMilliseconds
        self.init(
            id: RandomToken.make(byteCount: 16), email: email.flatMap(EmailAddress.normalized), emailVerified: emailVerified?.wholeMilliseconds,
            name: name, image: image, createdAt: now, updatedAt: now, payloadJSON: nil)
        if self.email == nil { self.emailVerified = nil }
    }

    /// Recreates a stored user as it was saved (for store implementations).
    ///
    /// - Parameters:
    ///   - id: The user's ID.
    ///   - email: The normalised address.
    ///   - emailVerified: When the address was proven.
    ///   - name: A display name.
    ///   - image: A picture URL.
    ///   - createdAt: When the user was created.
    ///   - updatedAt: When the user last changed.
    ///   - payloadJSON: The app's fields, as JSON.
    public init(
        id: String, email: String?, emailVerified: Date?, name: String?, image: String?, createdAt: Date, updatedAt: Date,
        payloadJSON: [UInt8]?
    ) {
        self.id = id
        self.email = email
        self.emailVerified = emailVerified
        self.name = name
        self.image = image
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.payloadJSON = payloadJSON
    }

    /// Changes the address; a new address is not verified until it is proven again.
    ///
    /// - Parameters:
    ///   - email: The new address, or `nil` for none.
    ///   - verifiedAt: When the new address was proven, if it was.
    /// - Returns: `false` (and no change) when `email` does not look like an address.
    @discardableResult
    public mutating func setEmail(_ email: String?, verifiedAt: Date? = nil) -> Bool {
        guard let email else {
            self.email = nil
            emailVerified = nil
            return true
        }
        guard let normalized = EmailAddress.normalized(email) else { return false }
        self.email = normalized
        emailVerified = verifiedAt
        return true
    }

    /// The app's fields, decoded.
    ///
    /// - Parameter type: The app's payload type.
    /// - Returns: The payload, or `nil` when none was set.
    /// - Throws: A `DecodingError` when the stored JSON is not a `Payload`.
    public func payload<Payload: Decodable>(as type: Payload.Type) throws -> Payload? {
        guard let payloadJSON else { return nil }
        return try JSONDecoder().decode(Payload.self, from: Data(payloadJSON))
    }

    /// Replaces the app's fields.
    ///
    /// - Parameter payload: The new payload.
    /// - Throws: An `EncodingError` when the payload cannot be encoded.
    public mutating func setPayload<Payload: Encodable>(_ payload: Payload) throws {
        payloadJSON = Array(try JSONEncoder().encode(payload))
    }
}

extension Date {
    /// The time rounded to whole milliseconds, the precision account stores keep: such a time survives a round
    /// trip through a store unchanged.
    package var wholeMilliseconds: Date {
        Date(timeIntervalSince1970: (timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// Milliseconds since 1970, as account stores keep times.
    package var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// A time from milliseconds since 1970.
    ///
    /// - Parameter milliseconds: Milliseconds since 1970.
    package init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
