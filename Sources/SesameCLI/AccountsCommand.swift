import ArgumentParser
import Foundation
import Sesame

/// `sesame accounts unlink USER PROVIDER`.
struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Manage the sign-in methods linked to users.",
        subcommands: [Unlink.self])

    struct Unlink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unlink a provider's account from a user (never their last way to sign in).")

        @OptionGroup var store: StoreOptions

        @Argument(help: "The user's ID, or their email address.")
        var user: String

        @Argument(help: "The provider's name, as the app mounts it (`github`, `password`, …).")
        var provider: String

        @Option(help: "The provider's account ID, when the user has several accounts with the provider.")
        var accountID: String?

        @Flag(help: "Print JSON instead of a sentence.")
        var json = false

        func run() async {
            await reporting {
                let (provider, accountID) = (self.provider, self.accountID)
                let (userID, key) = try await store.withStores { stores in
                    let user = try await stores.user(self.user)
                    let matches = try await stores.accounts.accounts(userID: user.id).filter {
                        $0.key.provider == provider && (accountID == nil || $0.key.providerAccountID == accountID)
                    }
                    guard let account = matches.first else { throw CommandFailure(description: "user \(user.id) has no \(provider) account") }
                    guard matches.count == 1 else {
                        throw CommandFailure(description: "user \(user.id) has \(matches.count) \(provider) accounts: name one with --account-id", code: 64)
                    }
                    try await stores.audited {
                        switch try await stores.accounts.unlinkAccount(account.key, userID: user.id) {
                        case .unlinked: await stores.audit.record(.accountUnlinked, userID: user.id, provider: provider)
                        case .notFound: throw CommandFailure(description: "user \(user.id) has no \(provider) account")
                        case .lastSignInMethod: throw CommandFailure(description: "\(provider) is the last way user \(user.id) can sign in: not unlinked")
                        }
                    }
                    return (user.id, account.key)
                }
                if json {
                    printJSON(.object(["user": .string(userID), "provider": .string(key.provider), "accountID": .string(key.providerAccountID), "unlinked": true]))
                    return
                }
                print("Unlinked \(key.provider) account \(key.providerAccountID) from user \(userID).")
            }
        }
    }
}
