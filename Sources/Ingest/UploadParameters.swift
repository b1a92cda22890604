import Events
import Hummingbird

/// What an upload asks for, parsed strictly before anything is done with
/// it: a parameter given twice, out of range or not in its grammar is a 400
/// naming it, never a trap and never a guess.
struct UploadParameters: Equatable {
    /// How long the client waits for the answer, at most `maxWait`.
    var wait: Duration = .zero
    /// The client's label (`ImageLabel.normalized`), "" when none.
    var label = ""

    init(wait: Duration = .zero, label: String = "") {
        self.wait = wait
        self.label = label
    }

    static let names: Set<String> = ["wait", "label"]

    init(query: Parameters, maxWait: Duration) throws(APIError) {
        // A parameter this endpoint does not know is a mistake (`?wiat=5`), not something to ignore.
        if let unknown = query.first(where: { !Self.names.contains(String($0.key)) }) {
            throw .badParameter(String(String(unknown.key).prefix(40)), "unknown parameter \(String(unknown.key).prefix(40).debugDescription); this endpoint takes wait and label")
        }
        if let text = try Self.single("wait", in: query) {
            wait = try Self.seconds(text, upTo: maxWait)
        }
        if let text = try Self.single("label", in: query) {
            do { label = try ImageLabel.normalized(text) } catch { throw .badParameter("label", error.description) }
        }
    }

    private static func single(_ name: String, in query: Parameters) throws(APIError) -> String? {
        let values = query.getAll(name) as [String]
        guard values.count <= 1 else { throw .badParameter(name, "\(name) is given \(values.count) times; give it once") }
        return values.first
    }

    /// Decimal seconds as JSON writes numbers (`2`, `0.5`, `1e-05`): no
    /// sign, hex or infinity, at most 32 characters, and within the limit
    /// before any arithmetic, so nothing that parses can overflow after.
    static func seconds(_ text: String, upTo limit: Duration) throws(APIError) -> Duration {
        let limitSeconds = Double(limit.components.seconds)
        let problem = APIError.badParameter("wait", "wait must be a number of seconds from 0 to \(limit.components.seconds), like 2 or 0.5")
        guard text.utf8.count <= 32, isJSONNumber(text), let seconds = Double(text), seconds.isFinite,
              seconds >= 0, seconds <= limitSeconds else { throw problem }
        return .milliseconds(Int64((seconds * 1_000).rounded()))
    }

    /// digits [. digits] [e|E [+|-] digits]
    private static func isJSONNumber(_ text: String) -> Bool {
        var rest = Substring(text).utf8[...]
        func digits() -> Bool {
            let count = rest.prefix { (48...57).contains($0) }.count
            rest = rest.dropFirst(count)
            return count > 0
        }
        guard digits() else { return false }
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            guard digits() else { return false }
        }
        if let e = rest.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            rest = rest.dropFirst()
            if let sign = rest.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { rest = rest.dropFirst() }
            guard digits() else { return false }
        }
        return rest.isEmpty
    }
}
