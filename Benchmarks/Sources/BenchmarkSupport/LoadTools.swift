import Foundation

/// The `[seconds-per-round] [rounds] [connections]` arguments the HTTP benchmarks share.
public struct LoadArguments: Sendable {
    /// How long each wrk run lasts, in seconds.
    public let seconds: Int
    /// How many interleaved rounds to run.
    public let rounds: Int
    /// How many connections wrk keeps open.
    public let connections: Int

    /// Reads the arguments from the command line.
    ///
    /// - Parameter defaultRounds: The rounds when the command line gives none.
    public init(defaultRounds: Int = 3) {
        let arguments = CommandLine.arguments.dropFirst()
        seconds = arguments.first.flatMap(Int.init) ?? 10
        rounds = arguments.dropFirst().first.flatMap(Int.init) ?? defaultRounds
        connections = arguments.dropFirst(2).first.flatMap(Int.init) ?? 64
    }
}

/// Exits with a hint when wrk is not installed.
public func requireWrk() {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") else {
        FileHandle.standardError.write(Data("wrk is not installed: apt-get install wrk\n".utf8))
        exit(2)
    }
}

/// Runs a command found on the `PATH` and returns what it printed (standard output and error).
///
/// Children of a Swift process can inherit a blocked signal mask, and some tools rely on signals (pgbench's
/// `-T` timer): a tiny Python shim clears the mask before it executes the command.
///
/// - Parameter arguments: The command and its arguments.
/// - Returns: The output.
/// - Throws: When the command cannot be started.
public func runCommand(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    let unblock = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])"
    process.arguments = ["python3", "-c", unblock] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// A wrk run that failed or saw a response that was not a success.
public struct WrkFailure: Error, CustomStringConvertible {
    /// What wrk printed.
    public let output: String
    public var description: String { "wrk failed or saw errors:\n\(output)" }
}

/// What one wrk run measured.
public struct WrkResult: Sendable {
    /// Requests per second.
    public let rate: Double
    /// Requests completed.
    public let requests: Double
    /// CPU seconds (user and system) this process spent while wrk ran: the server's CPU, when the server runs in
    /// this process and nothing else in it is busy.
    public let processCPU: Double

    /// This process's CPU microseconds per request.
    public var cpuMicrosecondsPerRequest: Double { processCPU / requests * 1e6 }
}

/// Runs wrk (one thread) against `url`, after checking that every response was a success, and measures this
/// process's CPU time meanwhile.
///
/// - Parameters:
///   - url: The URL.
///   - connections: How many connections to keep open.
///   - seconds: How long to run.
///   - options: More wrk options (headers, a script, `--latency`).
/// - Returns: The rate, the request count and the CPU time.
/// - Throws: ``WrkFailure`` when wrk failed or a response was not 2xx or 3xx.
public func wrkRun(_ url: String, connections: Int, seconds: Int, options: [String] = []) throws -> WrkResult {
    let cpuBefore = processCPUSeconds()
    let text = try runCommand(["wrk", "-t", "1", "-c", String(connections), "-d", "\(seconds)s"] + options + [url])
    let cpu = processCPUSeconds() - cpuBefore
    let lines = text.split(separator: "\n")
    guard !text.contains("Non-2xx"), let line = lines.first(where: { $0.hasPrefix("Requests/sec:") }),
        let rate = Double(line.split(separator: " ").last!),
        let total = lines.first(where: { $0.contains(" requests in ") }),
        let requests = Double(total.split(separator: " ").first!), requests > 0
    else { throw WrkFailure(output: text) }
    return WrkResult(rate: rate, requests: requests, processCPU: cpu)
}

/// Runs wrk (one thread) against `url` and returns its requests per second, after checking that every response
/// was a success.
///
/// - Parameters: See ``wrkRun(_:connections:seconds:options:)``.
/// - Returns: Requests per second.
/// - Throws: ``WrkFailure`` when wrk failed or a response was not 2xx or 3xx.
public func wrkRate(_ url: String, connections: Int, seconds: Int, options: [String] = []) throws -> Double {
    try wrkRun(url, connections: connections, seconds: seconds, options: options).rate
}

/// The CPU seconds (user and system) this process has used so far.
public func processCPUSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The median (the upper one for an even count).
///
/// - Parameter values: At least one value.
/// - Returns: The median.
public func median(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}
