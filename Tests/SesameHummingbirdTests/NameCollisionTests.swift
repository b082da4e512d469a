import Foundation
import Hummingbird
import HummingbirdAuth
import Sesame
import SesameHummingbird
import SesameTestSupport
import Testing

/// Sesame's public types, named unqualified in a file that imports Hummingbird and HummingbirdAuth beside Sesame: a type of
/// Sesame or SesameHummingbird that had the name of one of Hummingbird and HummingbirdAuth's would make its name here ambiguous, and this file would
/// not compile. The test keeps the list complete: every public top-level type the modules declare is in it.
@Suite struct NameCollisionTests {
    enum Names: SessionSubject { case user(id: String) }
    struct Basket: Codable, Sendable, Equatable {}

    static let types: [String: Any.Type] = [
        "PasswordHashingQueue": (PasswordHashingQueue).self,
        "PasswordPolicy": (PasswordPolicy).self,
        "ScryptParameters": (ScryptParameters).self,
        "ScryptPasswordHasher": (ScryptPasswordHasher).self,
        "AccountKey": (AccountKey).self,
        "AccountSignIn": (AccountSignIn).self,
        "AccountStore": (any AccountStore).self,
        "AccountStoreError": (AccountStoreError).self,
        "AccountType": (AccountType).self,
        "Accounts": (Accounts).self,
        "AuthAccount": (AuthAccount).self,
        "AuthCallbacks": (AuthCallbacks).self,
        "AuthConfiguration": (AuthConfiguration).self,
        "AuthContext": (AuthContext).self,
        "AuthError": (AuthError).self,
        "AuthEvent": (AuthEvent).self,
        "AuthHandler": (AuthHandler).self,
        "AuthPages": (AuthPages).self,
        "AuthProvider": (any AuthProvider).self,
        "AuthRequest": (AuthRequest).self,
        "AuthResponse": (AuthResponse).self,
        "AuthSession": (AuthSession<Names>).self,
        "AuthSuccess": (AuthSuccess).self,
        "AuthUser": (AuthUser).self,
        "BasicSesameRequestContext": (BasicSesameRequestContext<Names>).self,
        "CORSPolicy": (CORSPolicy).self,
        "CORSPolicyMiddleware": (CORSPolicyMiddleware<BasicSesameRequestContext<Names>>).self,
        "CSRFProtection": (CSRFProtection).self,
        "ClientAuthentication": (ClientAuthentication).self,
        "ClientCredentials": (ClientCredentials).self,
        "CrossSiteProtection": (CrossSiteProtection).self,
        "CustomProvider": (CustomProvider).self,
        "Eventual": (Eventual<Int>).self,
        "FlowStep": (FlowStep).self,
        "HTML": (HTML).self,
        "JOSEHeader": (JOSEHeader).self,
        "JSONObject": (JSONObject).self,
        "JSONParseError": (JSONParseError).self,
        "JSONValue": (JSONValue).self,
        "JWE": (JWE).self,
        "JWK": (JWK).self,
        "JWS": (JWS).self,
        "JWT": (JWT).self,
        "KeyAlgorithm": (KeyAlgorithm).self,
        "KeySet": (KeySet).self,
        "LinkProvider": (LinkProvider).self,
        "MemoryAccountStore": (MemoryAccountStore).self,
        "MemoryRateLimiter": (MemoryRateLimiter).self,
        "MemoryReplayStore": (MemoryReplayStore).self,
        "MemoryRevocationStore": (MemoryRevocationStore).self,
        "MemorySessionStore": (MemorySessionStore).self,
        "MemoryStoreFullError": (MemoryStoreFullError).self,
        "OAuth2Provider": (OAuth2Provider).self,
        "OIDCProvider": (OIDCProvider).self,
        "OriginPolicy": (OriginPolicy).self,
        "PasskeyAuthenticator": (PasskeyAuthenticator).self,
        "Profile": (Profile).self,
        "ProviderFetch": (ProviderFetch).self,
        "ProviderHTTPClient": (ProviderHTTPClient).self,
        "ProviderIdentity": (ProviderIdentity).self,
        "ProviderResult": (ProviderResult).self,
        "RateLimiter": (any RateLimiter).self,
        "RedirectPolicy": (RedirectPolicy).self,
        "RegisteredClaims": (RegisteredClaims).self,
        "ReplayStore": (any ReplayStore).self,
        "RequireSessionMiddleware": (RequireSessionMiddleware<BasicSesameRequestContext<Names>>).self,
        "RevocationStore": (any RevocationStore).self,
        "SesameRequestContext": (any SesameRequestContext<Names>).self,
        "SesameSessionMiddleware": (SesameSessionMiddleware<BasicSesameRequestContext<Names>, SessionTokens<Names>>).self,
        "SessionAccess": (SessionAccess).self,
        "SessionConfiguration": (SessionConfiguration).self,
        "SessionCookie": (SessionCookie).self,
        "SessionCookieSigner": (SessionCookieSigner).self,
        "SessionCredentials": (SessionCredentials).self,
        "SessionFlow": (SessionFlow<SessionTokens<Names>>).self,
        "SessionFlowEnd": (SessionFlowEnd).self,
        "SessionFlowRequest": (any SessionFlowRequest).self,
        "SessionFlowStart": (SessionFlowStart<Names>).self,
        "SessionRecord": (SessionRecord).self,
        "SessionRequirement": (SessionRequirement<Names>).self,
        "SessionResolution": (SessionResolution<Names>).self,
        "SessionScope": (SessionScope<Names>).self,
        "SessionStore": (any SessionStore).self,
        "SessionStoreError": (SessionStoreError).self,
        "SessionStrategy": (any SessionStrategy<Names>).self,
        "SessionSubject": (any SessionSubject).self,
        "SessionTokens": (SessionTokens<Names>).self,
        "StoredSessionConfiguration": (StoredSessionConfiguration).self,
        "StoredSessionData": (StoredSessionData<Basket>).self,
        "StoredSessions": (StoredSessions<Names, Basket>).self,
        "TokenError": (TokenError).self,
        "TokenFormat": (TokenFormat).self,
        "TokenRefreshError": (TokenRefreshError).self,
        "TokenRefreshing": (any TokenRefreshing).self,
        "TokenSet": (TokenSet).self,
        "TokenValidation": (TokenValidation).self,
        "TrustedProxies": (TrustedProxies).self,
        "URLEncodedForm": (URLEncodedForm).self,
        "UnlinkOutcome": (UnlinkOutcome).self,
        "VerificationToken": (VerificationToken).self,
    ]

    @Test func everyPublicTypeIsUsableUnqualifiedBesideHummingbird() throws {
        #expect(Set(Self.types.keys) == (try PublicTypeNames.declared(in: ["Sesame", "SesameHummingbird"])))
        // The framework's own types are still reachable by their names: nothing of Sesame shadows them.
        #expect(([Response.self, Request.self, SessionContext<String>.self, SessionData<String>.self, (any SessionRequestContext<String>).self] as [Any.Type]).count == 5)
    }
}
