import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the repository's service scripts (`scripts/services/redis`, `scripts/services/postgres`) from tests.
///
/// Two properties matter when a test process starts servers while other tests run next to it:
/// - the child gets none of the test process's descriptors beyond standard input, output and error. NIO opens
///   its sockets without close-on-exec, so a server started while another test held a listening socket (a
///   free-port probe, a test server) would keep that port bound after the test closed it, and a later server
///   given the same port would find it taken while clients connecting there hang;
/// - waiting for the script never blocks a thread of the cooperative pool (it has as many threads as cores:
///   two tests waiting for scripts at once would stall every other test).
public enum ServiceScript {
    /// A script that exited unsuccessfully.
    public struct Failure: Error, CustomStringConvertible {
        /// The script and its arguments.
        public let arguments: [String]
        /// The exit status (128 plus the signal number when a signal ended it).
        public let status: Int32
        /// What the script wrote to standard error.
        public let stderr: String
        public var description: String { "\(arguments.joined(separator: " ")) exited \(status): \(stderr)" }
    }

    /// The path of `scripts/services/NAME` in this checkout.
    ///
    /// - Parameter name: `redis` or `postgres`.
    /// - Returns: The script's absolute path.
    public static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/services/" + name).path
    }

    /// Runs `scripts/services/NAME` with `arguments` and returns its standard output.
    ///
    /// - Parameters:
    ///   - name: `redis` or `postgres`.
    ///   - arguments: The command (`start`, `stop`) and its arguments.
    /// - Returns: What the script printed.
    /// - Throws: ``Failure`` when it exits unsuccessfully, or the `POSIXError` of a failed spawn.
    public static func run(_ name: String, _ arguments: [String]) async throws -> String {
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-script-" + UUID().uuidString)
        let stdout = logs.path + ".out", stderr = logs.path + ".err"
        defer {
            try? FileManager.default.removeItem(atPath: stdout)
            try? FileManager.default.removeItem(atPath: stderr)
        }
        let command = ([path(name)] + arguments).map(shellQuoted).joined(separator: " ")
            + " >" + shellQuoted(stdout) + " 2>" + shellQuoted(stderr) + " </dev/null"
        let status = try await spawnAndWait(["/bin/bash", "-c", command])
        guard status == 0 else {
            let diagnostics = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
            throw Failure(arguments: ["scripts/services/" + name] + arguments, status: status, stderr: diagnostics)
        }
        return (try? String(contentsOfFile: stdout, encoding: .utf8)) ?? ""
    }

    static func shellQuoted(_ argument: String) -> String {
        "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Spawns `argv` with only descriptors 0 to 2, and waits for it on a thread of its own.
    ///
    /// - Returns: The exit status, or 128 plus the signal that ended the process.
    static func spawnAndWait(_ argv: [String]) async throws -> Int32 {
        var pid = pid_t()
        let arguments = argv.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        #if canImport(Glibc)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        closeInheritedDescriptors(&actions)
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, arguments, environ)
        #else
        let spawned = posix_spawn(&pid, argv[0], nil, nil, arguments, environ)
        #endif
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
        let processID = pid
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(processID, &status, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: status)
            }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    #if canImport(Glibc)
    /// Adds "close every descriptor from 3 up" to `actions`: glibc's `posix_spawn_file_actions_addclosefrom_np`
    /// (2.34 and later; Swift does not import it, so it is looked up), else one close per descriptor open now.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            return
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in open.compactMap(Int32.init) where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
    }
    #endif
}
