import Foundation

/// What a label may be, wherever it comes from (an upload's `?label=`, a
/// backfill's folder name, an operator's list): Unicode NFC, no surrounding
/// white space, at most `maxScalars` scalars, none of them a control or
/// format character (bidirectional overrides, zero-width joiners: what makes
/// one label look like another), a line or paragraph separator, a private-use
/// or unassigned code point, or a path separator. Labels are data shown to
/// every user, never paths.
public enum ImageLabel {
    public static let maxScalars = 100

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case tooLong(scalars: Int)
        case forbidden(Unicode.Scalar)

        public var description: String {
            switch self {
            case .tooLong(let scalars): "label has \(scalars) characters, at most \(ImageLabel.maxScalars) are allowed"
            case .forbidden(let scalar):
                "label holds U+\(String(scalar.value, radix: 16, uppercase: true)), which a label may not (control, format, separator or unassigned)"
            }
        }
    }

    /// The label in its one spelling, or why the text cannot be one: for
    /// text a client sent, which is refused rather than guessed at.
    public static func normalized(_ text: String) throws(Problem) -> String {
        let composed = text.precomposedStringWithCanonicalMapping
        // Before trimming: Foundation's white space may include a format
        // character (U+200B was a space before Unicode 4.0.1).
        if let scalar = composed.unicodeScalars.first(where: isForbidden) { throw .forbidden(scalar) }
        let label = composed.trimmingCharacters(in: .whitespaces)
        let count = label.unicodeScalars.count
        guard count <= maxScalars else { throw .tooLong(scalars: count) }
        return label
    }

    /// The label with what `normalized` refuses dropped and the rest cut to
    /// `maxScalars`: for names that must become some label (folders).
    public static func sanitized(_ text: String) -> String {
        let kept = text.precomposedStringWithCanonicalMapping.unicodeScalars.filter { !isForbidden($0) }
        return String(String.UnicodeScalarView(kept.prefix(maxScalars))).trimmingCharacters(in: .whitespaces)
    }

    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned: return true
        default: return scalar == "/" || scalar == "\\" || scalar.properties.isNoncharacterCodePoint
        }
    }
}
