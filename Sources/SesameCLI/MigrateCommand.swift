import ArgumentParser
import Sesame
import SesamePostgres
import SesameSQLite

/// `sesame migrate`.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring the users-and-accounts schema to its newest version (on PostgreSQL, and create Sesame's other tables).",
        discussion: "Idempotent, and safe to run from several processes at once. Creates the SQLite file if it is missing.")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Print JSON instead of a sentence.")
    var json = false

    func run() async {
        await reporting {
            let (name, applied, version) = try await store.withStores(creating: true) { stores -> (String, [Int], Int) in
                let (store, name) = (stores.accounts, stores.name)
                if let postgres = store as? PostgresAccountStore {
                    let applied = try await postgres.migrate()
                    // Sesame's other tables (each created if missing; they have no versions).
                    try await stores.migrateOtherTables()
                    return (name, applied, try await postgres.schemaVersion())
                } else if let sqlite = store as? SQLiteAccountStore {
                    let applied = try await sqlite.migrate()
                    return (name, applied, try await sqlite.schemaVersion())
                }
                throw CommandFailure(description: "\(name) cannot be migrated")
            }
            if json {
                printJSON(.object(["store": .string(name), "applied": .array(applied.map { .integer(Int64($0)) }), "version": .integer(Int64(version))]))
            } else if applied.isEmpty {
                print("\(name): the schema is current (version \(version))")
            } else {
                print("\(name): applied version(s) \(applied.map(String.init).joined(separator: ", ")); now at version \(version)")
            }
        }
    }
}
