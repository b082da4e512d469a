import Sesame

extension Eventual {
    /// The value when it is ready now, `nil` when it must be waited for.
    public var ready: Value? {
        if case .now(let value) = self { return value }
        return nil
    }
}

extension SessionTokens {
    /// The verified session when it is known without waiting, `nil` when the revocation store must be asked.
    ///
    /// - Throws: Why the token is refused, when that is known without waiting.
    public func verifiedNow(_ token: String) throws(TokenError) -> AuthSession<Subject>? {
        guard let result = verification(token).ready else { return nil }
        return try result.get()
    }

    /// The resolution when it is known without waiting, `nil` when the revocation store must be asked.
    public func resolvedNow(_ credentials: SessionCredentials) -> SessionResolution<Subject>? {
        resolve(credentials).ready
    }
}
