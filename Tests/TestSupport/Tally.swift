import Synchronization

/// Counts per key, shared between the tasks or threads of a test.
public final class Tally<Key: Hashable & Sendable>: Sendable {
    public let counts = Mutex<[Key: Int]>([:])

    public init() {}
}
