import Foundation
import Testing

@testable import Sesame

/// Informational timings, printed, never asserted (meaningful only in release: `swift test -c release --filter
/// WebAuthnTimingTests`).
@Suite("WebAuthn timing") struct WebAuthnTimingTests {
    #if DEBUG
    static let iterations = 10_000
    #else
    static let iterations = 100_000
    #endif

    @Test("decoding a none attestation object")
    func decodeTiming() throws {
        let vector = try PyWebAuthnVectors.load().registration("registration/verifies_none_attestation_response")
        let bytes = try #require(testBase64URL(vector.attestationObject))
        let authData = try #require(try CBORValue.decode(bytes)["authData"]?.bytes)
        var sink = 0

        let clock = ContinuousClock()
        let cbor = clock.measure {
            for _ in 0..<Self.iterations {
                if case .map(let entries) = try? CBORValue.decode(bytes) { sink &+= entries.count }
            }
        }
        let outerAndKey = clock.measure {
            for _ in 0..<Self.iterations {
                // The attestation object, then the COSE key inside authData, as CBOR only.
                if let object = try? CBORValue.decode(bytes), let data = object["authData"]?.bytes, data.count > 55,
                    let key = try? CBORValue.decodePrefix(data[(55 + (Int(data[53]) << 8 | Int(data[54])))...])
                {
                    sink &+= key.byteCount
                }
            }
        }
        let parse = clock.measure {
            for _ in 0..<(Self.iterations / 10) {
                if let object = try? AttestationObject(bytes: bytes) { sink &+= Int(object.authenticatorData.signCount) }
            }
        }
        let authDataParse = clock.measure {
            for _ in 0..<(Self.iterations / 10) {
                if let data = try? AuthenticatorData(bytes: authData) { sink &+= Int(data.signCount) }
            }
        }
        func perOperation(_ duration: Duration, _ count: Int) -> String {
            let nanoseconds = Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
            return String(format: "%.0f ns", nanoseconds / Double(count))
        }
        print(
            """
            [WebAuthn timing] \(bytes.count)-byte none attestation object, \(Self.iterations) iterations:
              CBORValue.decode (whole object): \(perOperation(cbor, Self.iterations))/op
              CBORValue.decode + decodePrefix (object and COSE key): \(perOperation(outerAndKey, Self.iterations))/op
              AuthenticatorData(bytes:) incl. P-256 point validation: \(perOperation(authDataParse, Self.iterations / 10))/op
              AttestationObject(bytes:) end to end: \(perOperation(parse, Self.iterations / 10))/op
              (sink \(sink))
            """)
    }
}
