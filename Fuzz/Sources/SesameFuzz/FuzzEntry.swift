import Foundation

/// One parser under the fuzzer: it is handed every input, must never crash, and traps (a finding) when a
/// property it checks does not hold.
struct FuzzTarget: Sendable {
    /// The name that `scripts/fuzz` and the corpus folder use.
    let name: String
    /// Runs one input.
    let run: @Sendable (UnsafeBufferPointer<UInt8>) -> Void
}

/// Every target, by name.
let fuzzTargets: [FuzzTarget] = [
    jwsTarget, jweTarget, jsonTarget, jsonScannerTarget, base64URLTarget, cookieTarget, formTarget,
    cborTarget, coseKeyTarget, authenticatorDataTarget, attestationObjectTarget, clientDataTarget,
    respTarget, forwardedTarget,
]

/// The target chosen by `SESAME_FUZZ_TARGET`, looked up once.
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["SESAME_FUZZ_TARGET"] ?? ""
    guard let target = fuzzTargets.first(where: { $0.name == name }) else {
        let names = fuzzTargets.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("SESAME_FUZZ_TARGET must name one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()

/// A property that must hold for every input; a failure is reported to libFuzzer as a crash with `message`.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("property failed: \(message())") }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    _ = selectedTarget
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selectedTarget.run(UnsafeBufferPointer(start: size == 0 ? nil : data, count: size))
    return 0
}
