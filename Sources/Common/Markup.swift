/// Text made safe for XML and HTML, and read back: the five characters that
/// could end a value or open markup travel as entities (valid in both).
///
/// Both directions work on Unicode scalars, never on characters: a `"`
/// followed by a combining mark is one Swift `Character` ("\"\u{301}") that
/// equals no entity's character, yet a browser's parser still ends the
/// attribute at its quote.
public enum Markup {
    private static let entities: [(scalar: Unicode.Scalar, name: String)] = [
        ("&", "amp"), ("<", "lt"), (">", "gt"), ("\"", "quot"), ("'", "apos"),
    ]

    public static func escape(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let entity = entities.first(where: { $0.scalar == scalar }) {
                result.append("&")
                result.append(contentsOf: entity.name.unicodeScalars)
                result.append(";")
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// Decodes the five entities and numeric references (`&#233;`, `&#xE9;`);
    /// anything else that starts with `&` is kept as written.
    public static func unescape(_ text: Substring) -> String {
        let scalars = text.unicodeScalars
        guard scalars.contains("&") else { return String(text) }
        var result = String.UnicodeScalarView()
        var rest = scalars[...]
        while let amp = rest.firstIndex(of: "&"), let semicolon = rest[amp...].firstIndex(of: ";") {
            result.append(contentsOf: rest[..<amp])
            let name = String(String.UnicodeScalarView(rest[rest.index(after: amp)..<semicolon]))
            if let entity = entities.first(where: { $0.name == name }) {
                result.append(entity.scalar)
            } else if let scalar = numericReference(name) {
                result.append(scalar)
            } else {
                result.append(contentsOf: rest[amp...semicolon])
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        result.append(contentsOf: rest)
        return String(result)
    }

    private static func numericReference(_ name: String) -> Unicode.Scalar? {
        let number = name.hasPrefix("#x") ? UInt32(name.dropFirst(2), radix: 16)
            : name.hasPrefix("#") ? UInt32(name.dropFirst()) : nil
        return number.flatMap(Unicode.Scalar.init)
    }
}
