import Foundation
import X509

/// How ``Passkeys`` runs its WebAuthn ceremonies: the relying party, the origins it accepts and its policies.
///
/// The defaults are the secure ones: user verification required, discoverable credentials (passkeys) required,
/// no attestation asked for (the Copenhagen Book's and the Auth Book's advice for consumer sites), a cloned
/// authenticator (its signature counter going back) flagged and refused.
public struct PasskeyConfiguration: Sendable {
    /// What to do when an authenticator that counts presents a counter that did not go up.
    public enum CounterPolicy: Sendable {
        /// Flag the passkey (``PasskeyAuthenticator/flaggedAt``) and refuse this and every later sign-in with it.
        case flagAndRefuse
        /// Flag the passkey but let the sign-in through (for sites that only want to know).
        case flagOnly
    }

    /// The relying party ID: the site's registrable domain or a host under it (`example.com`), never a URL;
    /// `nil` (default) takes the base URL's host.
    public var relyingPartyID: String?
    /// The name authenticators show for the site.
    public var relyingPartyName: String
    /// The origins a ceremony may run on (`https://example.com`, an app's `https://login.example.com`), compared
    /// exactly with the client data's `origin`. The handler's base URL's origin is always one.
    public var origins: Set<String>
    /// Whether user verification (PIN, biometrics) is required; `false` asks for it but accepts presence alone.
    public var requiresUserVerification: Bool
    /// How long a challenge is accepted, in seconds (1 to 300; values outside are brought inside).
    public var challengeLifetime: Double {
        didSet { challengeLifetime = min(max(challengeLifetime, 1), 300) }
    }
    /// The attestation conveyance to ask for: `none` (default), `indirect`, `direct` or `enterprise`.
    public var attestation: String
    /// The certificates an attestation chain must end at, or `nil` (default) to check the chain's signatures but
    /// not where it ends.
    public var trustAnchors: [X509.Certificate]?
    /// What a counter that goes backwards does.
    public var counterPolicy: CounterPolicy
    /// The most passkeys a user may have (default 20).
    public var maximumPerUser: Int
    /// Ceremony verifications per client address (default: 30 at once, then one every 2 seconds).
    public var perClient: any RateLimiter

    /// Creates a configuration.
    ///
    /// - Parameters:
    ///   - relyingPartyName: The name authenticators show.
    ///   - relyingPartyID: The relying party ID (a domain, no scheme or port; default the base URL's host).
    ///   - origins: Further accepted origins besides the base URL's.
    ///   - requiresUserVerification: Whether user verification is required (default `true`).
    ///   - challengeLifetime: Seconds a challenge is accepted (default 300, at most 300).
    ///   - attestation: The attestation conveyance (default `none`).
    ///   - trustAnchors: Attestation roots to require (default none).
    ///   - counterPolicy: What a counter going backwards does (default ``CounterPolicy/flagAndRefuse``).
    ///   - maximumPerUser: The most passkeys a user may have (default 20).
    ///   - perClient: Verifications per client address.
    public init(
        relyingPartyName: String, relyingPartyID: String? = nil, origins: Set<String> = [], requiresUserVerification: Bool = true,
        challengeLifetime: Double = 300, attestation: String = "none", trustAnchors: [X509.Certificate]? = nil,
        counterPolicy: CounterPolicy = .flagAndRefuse, maximumPerUser: Int = 20,
        perClient: any RateLimiter = MemoryRateLimiter(capacity: 30, refillInterval: 2)
    ) {
        self.relyingPartyID = relyingPartyID
        self.relyingPartyName = relyingPartyName
        self.origins = origins
        self.requiresUserVerification = requiresUserVerification
        self.challengeLifetime = min(max(challengeLifetime, 1), 300)
        self.attestation = attestation
        self.trustAnchors = trustAnchors
        self.counterPolicy = counterPolicy
        self.maximumPerUser = maximumPerUser
        self.perClient = perClient
    }
}
