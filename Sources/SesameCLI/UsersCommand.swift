import ArgumentParser
import Foundation
import Sesame

/// `sesame users list | show | delete`.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "List, inspect and delete the users of the account store.",
        subcommands: [List.self, Show.self, Delete.self])

    static func json(_ user: AuthUser) -> JSONObject {
        var object: JSONObject = [
            "id": .string(user.id),
            "email": user.email.map(JSONValue.string) ?? .null,
            "emailVerified": user.emailVerified.map { .string(ISO8601DateFormatter().string(from: $0)) } ?? .null,
            "name": user.name.map(JSONValue.string) ?? .null,
            "createdAt": .string(ISO8601DateFormatter().string(from: user.createdAt)),
            "updatedAt": .string(ISO8601DateFormatter().string(from: user.updatedAt)),
        ]
        if let image = user.image { object["image"] = .string(image) }
        return object
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users in order of their IDs, a page at a time.")

        @OptionGroup var store: StoreOptions

        @Option(help: "The most users to list (1 to 10000).")
        var limit: Int = 100

        @Option(help: "Start after this user ID (the last ID of the previous page).")
        var after: String?

        @Flag(help: "Print JSON (`{\"users\": [...], \"next\": ID or null}`) instead of a table.")
        var json = false

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
        }

        func run() async {
            await reporting {
                let users = try await store.withStore { store, _ in try await store.users(after: after, limit: limit) }
                let next = users.count == limit ? users.last?.id : nil
                if json {
                    printJSON(.object(["users": .array(users.map { .object(UsersCommand.json($0)) }), "next": next.map(JSONValue.string) ?? .null]))
                    return
                }
                if users.isEmpty { print("No users\(after == nil ? "" : " after \(after!)").") }
                for user in users {
                    print([user.id, user.email ?? "-", user.emailVerified == nil ? "unverified" : "verified", user.name ?? ""].joined(separator: "\t"))
                }
                if let next { print("# more: sesame users list --after \(next)") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one user (by ID or email address) with its sign-in methods.")

        @OptionGroup var store: StoreOptions

        @Argument(help: "The user's ID, or their email address.")
        var user: String

        @Flag(help: "Print JSON instead of lines.")
        var json = false

        func run() async {
            await reporting {
                let wanted = user
                let found = try await store.withStore { store, _ -> (AuthUser, [AuthAccount], [PasskeyAuthenticator], Bool)? in
                    let match = wanted.contains("@") ? try await store.user(email: wanted.lowercased()) : try await store.user(id: wanted)
                    guard let match else { return nil }
                    return (match, try await store.accounts(userID: match.id), try await store.authenticators(userID: match.id),
                            try await store.totpEnrolment(userID: match.id) != nil)
                }
                guard let (user, accounts, passkeys, hasTOTP) = found else { throw CommandFailure(description: "no user \(wanted)") }
                let methods: [JSONValue] = accounts.map { account in
                    .object(["provider": .string(account.key.provider), "type": .string(account.type.rawValue),
                             "createdAt": .string(ISO8601DateFormatter().string(from: account.createdAt))])
                }
                if json {
                    var object = UsersCommand.json(user)
                    object["accounts"] = .array(methods)
                    object["passkeys"] = .integer(Int64(passkeys.count))
                    object["authenticatorApp"] = .bool(hasTOTP)
                    printJSON(.object(object))
                    return
                }
                print("id:\t\(user.id)")
                print("email:\t\(user.email ?? "-") (\(user.emailVerified == nil ? "unverified" : "verified"))")
                if let name = user.name { print("name:\t\(name)") }
                print("created:\t\(ISO8601DateFormatter().string(from: user.createdAt))")
                for account in accounts { print("account:\t\(account.key.provider) (\(account.type.rawValue))") }
                print("passkeys:\t\(passkeys.count)")
                print("authenticator app:\t\(hasTOTP ? "yes" : "no")")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a user: every session of theirs ends first, then the user goes with their accounts, passkeys and tokens.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var subject: SubjectOptions

        @Argument(help: "The user's ID, or their email address.")
        var user: String

        @Flag(help: "Confirm: the deletion cannot be undone.")
        var yes = false

        @Flag(help: "Print JSON instead of a sentence.")
        var json = false

        func validate() throws {
            guard yes else { throw ValidationError("deleting a user cannot be undone: add --yes") }
        }

        func run() async {
            await reporting {
                let (userID, ended, stateless) = try await store.withStores { stores in
                    let user = try await stores.user(self.user)
                    let subjectID = try subject.subjectID(of: user)
                    return try await stores.audited { () -> (String, Int, Bool) in
                        // Sessions end first: when that fails, nothing is deleted.
                        let (ended, stateless) = try await stores.endAllSessions(subjectID: subjectID)
                        guard try await stores.accounts.deleteUser(id: user.id) else { throw CommandFailure(description: "no user \(user.id)") }
                        await stores.audit.record(.userDeleted, userID: user.id)
                        return (user.id, ended, stateless)
                    }
                }
                if json {
                    printJSON(.object(["deleted": .string(userID), "sessionsEnded": .integer(Int64(ended)), "statelessTokensRevoked": .bool(stateless)]))
                    return
                }
                print("Deleted user \(userID); ended \(ended) stored session\(ended == 1 ? "" : "s").")
            }
        }
    }
}
