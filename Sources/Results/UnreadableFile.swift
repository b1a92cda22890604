/// A results file that is not what its name promises (damaged, truncated,
/// hostile, someone else's); the message names the file first.
public struct UnreadableFile: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let why: String

    public init(file: String, why: String) {
        self.file = file
        self.why = why
    }

    public var description: String { "\(file): \(why)" }
}
