import ArgumentParser
import Foundation
import Sesame

/// `sesame`: manage a Sesame deployment from the command line: keys, the stores' schema, users, sessions and
/// linked accounts.
///
/// Every command reads the same environment as the app (`SESAME_SIGNING_KEY`, `SESAME_VERIFICATION_KEYS`,
/// `SESAME_SQLITE_PATH`, `SESAME_POSTGRES_URL`, `SESAME_REDIS_URL`), takes `--json` for scripts, and exits non-zero with a message on
/// standard error when it cannot do what it was asked.
@main
struct SesameCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sesame",
        abstract: "Manage a Sesame deployment: keys, the stores' schema, users, their sessions and linked accounts.",
        subcommands: [KeysCommand.self, MigrateCommand.self, UsersCommand.self, SessionsCommand.self, AccountsCommand.self])
}

/// A failure the command explains itself: its message goes to standard error and the process exits with `code`.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    var code: Int32 = 1

    /// Prints the message and exits.
    func exit() -> Never {
        FileHandle.standardError.write(Data(("sesame: " + description + "\n").utf8))
        Foundation.exit(code)
    }
}

extension AsyncParsableCommand {
    /// Runs `body`, turning a ``CommandFailure`` (or any other error, described) into a message and a non-zero exit.
    func reporting(_ body: () async throws -> Void) async {
        do {
            try await body()
        } catch let failure as CommandFailure {
            failure.exit()
        } catch {
            CommandFailure(description: String(describing: error)).exit()
        }
    }
}

/// Prints a JSON value on one line.
func printJSON(_ value: JSONValue) {
    print(value.jsonString)
}
