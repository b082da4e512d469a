import ArgumentParser
import Foundation
import Sesame

/// `sesame sessions list | revoke USER`.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List or end a user's sessions.",
        subcommands: [List.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's live store-backed sessions, newest sign-in first.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var subject: SubjectOptions

        @Argument(help: "The user's ID, or their email address.")
        var user: String

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() async {
            await reporting {
                let (subjectID, sessions) = try await store.withStores { stores in
                    let subjectID = try subject.subjectID(of: try await stores.user(user))
                    return (subjectID, try await StoredSessionDirectory(store: stores.sessions).sessions(subjectID: subjectID))
                }
                let format = ISO8601DateFormatter()
                if json {
                    printJSON(.object([
                        "subject": .string(subjectID),
                        "sessions": .array(sessions.map { session in
                            .object(["id": .string(session.id), "signedInAt": .string(format.string(from: session.signedInAt)),
                                     "lastWrittenAt": .string(format.string(from: session.lastWrittenAt)),
                                     "expiresAt": .string(format.string(from: session.expiresAt))])
                        }),
                    ]))
                    return
                }
                if sessions.isEmpty { print("No stored sessions for \(subjectID).") }
                for session in sessions {
                    print([session.id, "signed in " + format.string(from: session.signedInAt), "ends " + format.string(from: session.expiresAt)].joined(separator: "\t"))
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a user's sessions: one (--session) or all, with their apps' refresh tokens and, where the app shares a revocation store, its stateless tokens.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var subject: SubjectOptions

        @Argument(help: "The user's ID, or their email address.")
        var user: String

        @Option(help: "End only this session (an ID from `sesame sessions list`).")
        var session: String?

        @Flag(help: "Print JSON instead of a sentence.")
        var json = false

        func run() async {
            await reporting {
                let wanted = session
                let (subjectID, ended, stateless) = try await store.withStores { stores in
                    let subjectID = try subject.subjectID(of: try await stores.user(user))
                    return try await stores.audited { () -> (String, Int, Bool?) in
                        if let wanted {
                            guard try await StoredSessionDirectory(store: stores.sessions, audit: stores.audit).end(sessionID: wanted, subjectID: subjectID) else {
                                throw CommandFailure(description: "\(subjectID) has no session \(wanted)")
                            }
                            return (subjectID, 1, nil)
                        }
                        let (ended, revoked) = try await stores.endAllSessions(subjectID: subjectID)
                        return (subjectID, ended, revoked)
                    }
                }
                if json {
                    var object: JSONObject = ["subject": .string(subjectID), "ended": .integer(Int64(ended))]
                    if let stateless { object["statelessTokensRevoked"] = .bool(stateless) }
                    printJSON(.object(object))
                    return
                }
                print("Ended \(ended) stored session\(ended == 1 ? "" : "s") of \(subjectID).")
                if stateless == true { print("Revoked every stateless token of \(subjectID) issued until now.") }
                if stateless == false { print("Stateless tokens (if the app uses them) end at their expiry: no shared revocation store is configured (--postgres or --redis).") }
            }
        }
    }
}
