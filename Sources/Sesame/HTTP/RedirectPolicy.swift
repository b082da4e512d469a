/// Where Sesame may send a browser after sign-in or sign-out: paths on this site and the configured origins,
/// nothing else (the default `redirect` callback).
///
/// A relative target must be a plain path: it starts with one `/`, and has no backslash, whitespace or control
/// character (browsers turn `/\evil.example` and `/\t/evil.example` into `//evil.example`). An absolute target
/// must be `http` or `https` on the base URL's origin or a trusted one, without user information.
/// `//evil.example`, `https:evil.example`, `javascript:…`, `data:…` and look-alike hosts are refused.
public struct RedirectPolicy: Sendable {
    /// The origins absolute targets may point to.
    public let allowedOrigins: Set<String>

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - baseURL: The app's base URL; its origin is allowed.
    ///   - trustedOrigins: More allowed origins (for example a separate frontend).
    public init(baseURL: String, trustedOrigins: [String] = []) {
        allowedOrigins = Set(([baseURL] + trustedOrigins).compactMap(OriginPolicy.origin(of:)))
    }

    /// The target if it is allowed, else `nil`.
    ///
    /// - Parameter target: A path (`/dashboard?tab=1`) or an absolute URL.
    /// - Returns: The target unchanged when allowed.
    public func allowed(_ target: String) -> String? {
        if target.hasPrefix("/") { return Self.localPath(target) }
        guard !target.unicodeScalars.contains(where: Self.isForbidden), let origin = OriginPolicy.origin(of: target),
            allowedOrigins.contains(origin)
        else { return nil }
        return target
    }

    /// The target if it is a plain path on this site (the relative half of ``allowed(_:)``), else `nil`.
    ///
    /// - Parameter target: A path such as `/dashboard?tab=1`.
    public static func localPath(_ target: String) -> String? {
        guard target.hasPrefix("/"), !target.hasPrefix("//"), !target.unicodeScalars.contains(where: isForbidden) else { return nil }
        return target
    }

    /// Backslashes, whitespace, control characters and everything outside printable ASCII (a redirect target
    /// is a URL: non-ASCII must be percent-encoded, and raw look-alikes are refused rather than interpreted).
    private static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value <= 0x20 || scalar.value >= 0x7F || scalar == "\\"
    }
}
