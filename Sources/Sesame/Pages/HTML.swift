/// Small helpers for server-rendered pages: escaping and a shared, accessible layout.
public enum HTML {
    /// Escapes text for HTML element content and quoted attribute values.
    public static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.unicodeScalars.append(character)
            }
        }
        return output
    }

    /// A complete page: light and dark colour schemes, readable width, no scripts.
    ///
    /// - Parameters:
    ///   - title: The page title (escaped here).
    ///   - body: The body's HTML (the caller escapes what it interpolates).
    public static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>\(escape(title))</title>
        <style>
        :root { color-scheme: light dark; --fg: #1a1a1a; --bg: #ffffff; --muted: #555; --accent: #1f5fbf; }
        @media (prefers-color-scheme: dark) { :root { --fg: #f2f2f2; --bg: #141414; --muted: #bbb; --accent: #8ab4f8; } }
        body { font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); max-width: 34rem; margin: 3rem auto; padding: 0 1rem; }
        a { color: var(--accent); }
        small, .muted { color: var(--muted); }
        label { display: block; margin: 1rem 0 .25rem; }
        input[type=email], input[type=text], input[type=password] { font: inherit; width: 100%; padding: .5rem; box-sizing: border-box; }
        button { font: inherit; margin-top: 1rem; padding: .5rem 1rem; }
        code { word-break: break-all; }
        </style>
        </head>
        <body>
        \(body)
        </body>
        </html>
        """
    }
}
