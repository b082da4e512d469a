import Foundation

/// The names of the public top-level types that modules of this package declare, read from their sources: what the
/// name-collision tests must list, so a type added later cannot slip past them.
public enum PublicTypeNames {
    /// The public top-level type names declared in `Sources/<module>` for each module.
    ///
    /// - Parameter modules: Module names, for example `["Sesame", "SesameVapor"]`.
    /// - Returns: The names (`struct`, `class`, `enum`, `protocol`, `actor`, `typealias`).
    public static func declared(in modules: [String]) throws -> Set<String> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let declaration = try Regex(#"^public (?:final )?(?:struct|class|enum|protocol|actor|typealias) ([A-Za-z_][A-Za-z0-9_]*)"#)
        var names: Set<String> = []
        for module in modules {
            let directory = root.appendingPathComponent("Sources").appendingPathComponent(module)
            guard let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { continue }
            for case let file as URL in files where file.pathExtension == "swift" {
                for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                    if let match = try declaration.firstMatch(in: String(line)), let name = match.output[1].substring {
                        names.insert(String(name))
                    }
                }
            }
        }
        return names
    }
}
