import Common

/// Just enough XML for S3's responses: the text of flat elements, found by
/// name, with the five predefined entities and numeric references decoded.
enum XMLScan {
    /// Inner text of every `<name>…</name>` in `xml`, in order.
    static func elements(_ name: String, in xml: Substring) -> [Substring] {
        let open = "<\(name)>", close = "</\(name)>"
        var results: [Substring] = []
        var rest = xml[...]
        while let start = rest.range(of: open), let end = rest[start.upperBound...].range(of: close) {
            results.append(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return results
    }

    static func text(_ name: String, in xml: Substring) -> String? {
        elements(name, in: xml).first.map(Markup.unescape)
    }

    static func escape(_ text: String) -> String { Markup.escape(text) }
}
