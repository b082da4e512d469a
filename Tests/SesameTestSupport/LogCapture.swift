import Logging
import Synchronization

/// Collects every log record a logger writes (message and metadata, rendered), for tests that check what is
/// logged and what never is.
public final class LogCapture: Sendable {
    /// Creates an empty capture.
    public init() {}

    private let records = Mutex<[String]>([])

    /// A logger that writes here, at every level.
    public func logger(_ label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    /// The records so far, each as `LEVEL message key=value …`.
    public var lines: [String] { records.withLock { $0 } }

    fileprivate func append(_ line: String) { records.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            let all = self.metadata.merging(metadata ?? [:]) { $1 }
            let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.append("\(level) \(message) \(rendered)")
        }
    }
}
