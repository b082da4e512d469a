#if canImport(AuthenticationServices) && !os(Linux)
import AuthenticationServices
import Foundation

extension SesameClient {
    /// Signs in through the system browser (`ASWebAuthenticationSession`) with any of the server's providers:
    /// opens ``authorizationURL()``, waits for the browser to come back to the redirect URI's scheme, and
    /// exchanges the code (``completeSignIn(callbackURL:)``).
    ///
    /// - Parameters:
    ///   - presentationContextProvider: The window the browser sheet is presented on.
    ///   - prefersEphemeralWebBrowserSession: Whether the browser shares no cookies with Safari (default `false`).
    @MainActor
    public func signInWithBrowser(
        presentationContextProvider: any ASWebAuthenticationPresentationContextProviding, prefersEphemeralWebBrowserSession: Bool = false
    ) async throws {
        let url = await authorizationURL()
        let scheme = String(configuration.redirectURI.prefix { $0 != ":" })
        let callback: URL = try await withCheckedThrowingContinuation { continuation in
            let session = ASWebAuthenticationSession(url: url, callbackURLScheme: scheme) { url, error in
                if let url {
                    continuation.resume(returning: url)
                } else {
                    continuation.resume(throwing: error ?? SesameClientError.invalidCallback("the sign-in was cancelled"))
                }
            }
            session.presentationContextProvider = presentationContextProvider
            session.prefersEphemeralWebBrowserSession = prefersEphemeralWebBrowserSession
            if !session.start() { continuation.resume(throwing: SesameClientError.invalidCallback("the browser could not be opened")) }
        }
        try await completeSignIn(callbackURL: callback)
    }
}
#endif
