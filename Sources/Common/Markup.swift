/// Text made safe for XML and HTML, and read back: the five characters that
/// could end a value or open markup travel as entities (valid in both).
public enum Markup {
    private static let entities: [(character: Character, name: Substring)] = [
        ("&", "amp"), ("<", "lt"), (">", "gt"), ("\"", "quot"), ("'", "apos"),
    ]

    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            if let entity = entities.first(where: { $0.character == character }) {
                result += "&\(entity.name);"
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// Decodes the five entities and numeric references (`&#233;`, `&#xE9;`);
    /// anything else that starts with `&` is kept as written.
    public static func unescape(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var result = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&"), let semicolon = rest[amp...].firstIndex(of: ";") {
            result += rest[..<amp]
            let name = rest[rest.index(after: amp)..<semicolon]
            if let entity = entities.first(where: { $0.name == name }) {
                result.append(entity.character)
            } else if let scalar = numericReference(name) {
                result.unicodeScalars.append(scalar)
            } else {
                result += rest[amp...semicolon]
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return result + rest
    }

    private static func numericReference(_ name: Substring) -> Unicode.Scalar? {
        let number = name.hasPrefix("#x") ? UInt32(name.dropFirst(2), radix: 16)
            : name.hasPrefix("#") ? UInt32(name.dropFirst()) : nil
        return number.flatMap(Unicode.Scalar.init)
    }
}
