import NIOCore

/// One Redis command: its name and arguments, each sent as a binary-safe bulk string.
public struct RedisCommand: Sendable, Equatable {
    /// The command name followed by its arguments.
    public private(set) var arguments: [[UInt8]]

    /// Creates a command from text arguments.
    ///
    /// - Parameters:
    ///   - name: The command, for example `"GET"`.
    ///   - arguments: Its arguments, sent as UTF-8.
    public init(_ name: String, _ arguments: String...) {
        self.init(name, arguments: arguments)
    }

    /// Creates a command from a list of text arguments.
    ///
    /// - Parameters:
    ///   - name: The command, for example `"MGET"`.
    ///   - arguments: Its arguments, sent as UTF-8.
    public init(_ name: String, arguments: [String]) {
        self.arguments = [Array(name.utf8)] + arguments.map { Array($0.utf8) }
    }

    /// Appends a text argument.
    ///
    /// - Parameter argument: The argument, sent as UTF-8.
    public mutating func append(_ argument: String) {
        arguments.append(Array(argument.utf8))
    }

    /// Appends a binary argument.
    ///
    /// - Parameter bytes: The argument, sent as is.
    public mutating func append(bytes: [UInt8]) {
        arguments.append(bytes)
    }

    /// The command's size on the wire, in bytes.
    var encodedSize: Int {
        arguments.reduce(16) { $0 + $1.count + 16 }
    }

    /// Writes the command as a RESP array of bulk strings.
    ///
    /// - Parameter buffer: Where the bytes go.
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(arguments.count))
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            buffer.writeStaticString("$")
            buffer.writeString(String(argument.count))
            buffer.writeStaticString("\r\n")
            buffer.writeBytes(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    /// The command's bytes on the wire.
    var encodedBytes: [UInt8] {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}
