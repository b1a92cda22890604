import Foundation
import ObjectStorage
import Synchronization

/// A directory store with a hook before listings and conditional puts: the
/// moment another reducer acts, or a response is lost, injected exactly
/// where a race would put it instead of hoped for with sleeps.
final class HookedStore: ObjectStore, Sendable {
    let inner: LocalObjectStore
    /// Runs before a listing; returns nothing, may write through `inner`.
    let beforeList: @Sendable (String) async throws -> Void
    /// Runs after a conditional put landed; may throw in its place (a lost response).
    let afterConditionalPut: @Sendable (String) async throws -> Void

    init(_ inner: LocalObjectStore,
         beforeList: @escaping @Sendable (String) async throws -> Void = { _ in },
         afterConditionalPut: @escaping @Sendable (String) async throws -> Void = { _ in }) {
        self.inner = inner
        self.beforeList = beforeList
        self.afterConditionalPut = afterConditionalPut
    }

    var location: ObjectLocation { inner.location }
    func get(_ key: String) async throws -> [UInt8] { try await inner.get(key) }
    func getIfPresent(_ key: String) async throws -> [UInt8]? { try await inner.getIfPresent(key) }
    func put(_ key: String, _ bytes: [UInt8], contentType: String) async throws { try await inner.put(key, bytes, contentType: contentType) }
    func list(prefix: String) async throws -> [(key: String, size: Int)] {
        try await beforeList(prefix)
        return try await inner.list(prefix: prefix)
    }
    func delete(_ key: String) async throws { try await inner.delete(key) }
    func getVersioned(_ key: String) async throws -> (bytes: [UInt8], version: ObjectVersion)? { try await inner.getVersioned(key) }
    func put(_ key: String, _ bytes: [UInt8], contentType: String, ifUnchangedSince version: ObjectVersion?) async throws -> ObjectVersion {
        let written = try await inner.put(key, bytes, contentType: contentType, ifUnchangedSince: version)
        try await afterConditionalPut(key)
        return written
    }
    func abandonIncompleteWrites(under prefix: String, startedBefore date: Date) async throws -> Int {
        try await inner.abandonIncompleteWrites(under: prefix, startedBefore: date)
    }
}

/// Fires once.
final class Once: Sendable {
    private let fired = Mutex(false)
    func callAsFunction() -> Bool {
        fired.withLock { fired in
            defer { fired = true }
            return !fired
        }
    }
}
