import NIOCore
@testable import Sesame
@testable import SesameRedis

/// CBOR: what decodes, encoded again, decodes to the same value (and refusals are errors, never traps).
let cborTarget = FuzzTarget(name: "cbor") { bytes in
    let array = Array(bytes)
    guard let value = try? CBORValue.decode(array) else {
        // A prefix decode must not accept bytes a whole decode would choke on inside the item.
        _ = try? CBORValue.decodePrefix(array[...])
        return
    }
    require((try? CBORValue.decode(value.encoded())) == value, "encoded CBOR decodes to another value")
}

/// COSE keys: a key that parses keeps its bytes, and verifying any signature with it answers without trapping.
let coseKeyTarget = FuzzTarget(name: "cose-key") { bytes in
    let array = Array(bytes)
    guard let key = try? COSEKey(bytes: array) else { return }
    require(key.bytes == array || (try? COSEKey(bytes: key.bytes)) == key, "a parsed key does not parse again")
    require(!key.isValidSignature(Array(array.prefix(72)), for: array), "a key verified its own bytes as a signature")
}

/// Authenticator data: the fields read lie inside the bytes, and the attested key parses on its own.
let authenticatorDataTarget = FuzzTarget(name: "authenticator-data") { bytes in
    let array = Array(bytes)
    guard let data = try? AuthenticatorData(bytes: array) else { return }
    require(data.raw == array && data.rpIDHash == Array(array.prefix(32)), "authenticator data misread its header")
    if let attested = data.attestedCredentialData {
        require(attested.credentialID.count <= AuthenticatorData.maximumCredentialIDLength, "credential ID over the cap")
        require(data.flags.contains(.attestedCredentialData), "attested data without its flag")
        require((try? COSEKey(bytes: attested.publicKey.bytes)) == attested.publicKey, "attested key does not parse alone")
    } else {
        require(!data.flags.contains(.attestedCredentialData), "the flag without attested data")
    }
}

/// Attestation objects: decoding, then the statement's verification (`none`, `packed` self and X.509) against a
/// fixed client-data hash; nothing forged can verify as trusted.
let attestationObjectTarget = FuzzTarget(name: "attestation-object") { bytes in
    guard let object = try? AttestationObject(bytes: Array(bytes)) else { return }
    let hash = [UInt8](repeating: 0x5A, count: 32)
    _ = try? object.verify(clientDataHash: hash)
    require((try? object.verify(clientDataHash: hash, trustAnchors: [])) == nil, "trusted with no anchors")
}

/// `clientDataJSON`: the members read are the members a full parse reads.
let clientDataTarget = FuzzTarget(name: "client-data") { bytes in
    let array = Array(bytes)
    guard let clientData = try? ClientData(json: array) else { return }
    let object = (try? JSONValue(parsing: array))?.objectValue
    require(object?["type"]?.stringValue == clientData.type && object?["origin"]?.stringValue == clientData.origin, "fields differ")
    require(Base64URL.decode(object?["challenge"]?.stringValue ?? "") == clientData.challenge, "challenge differs")
}

/// RESP2 replies: whole and byte-split parses agree, nothing is consumed by an incomplete reply, and the caps hold.
let respTarget = FuzzTarget(name: "resp") { bytes in
    let parser = RESPParser(maximumReplySize: 4096)
    var whole = ByteBuffer(bytes: bytes)
    var replies: [RESPValue] = []
    while replies.count < 64 {
        let before = whole.readableBytes
        let parsed: RESPValue?
        do { parsed = try parser.parse(&whole) } catch { break }
        guard let reply = parsed else {
            require(whole.readableBytes == before, "an incomplete reply consumed bytes")
            break
        }
        require(whole.readableBytes < before, "a reply consumed nothing")
        replies.append(reply)
    }
    // The same bytes arriving in two pieces give the same replies, in order.
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    var reader = RESPFrameReader(maximumReplySize: 4096)
    var pieced: [RESPValue] = []
    reader.append(bytes[..<split])
    while pieced.count < 64, let reply = (try? reader.next()) ?? nil { pieced.append(reply) }
    reader.append(bytes[split...])
    while pieced.count < 64, let reply = (try? reader.next()) ?? nil { pieced.append(reply) }
    let count = min(replies.count, pieced.count)
    require(Array(replies.prefix(count)) == Array(pieced.prefix(count)), "split replies differ")
}
