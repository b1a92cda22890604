import Foundation
import Hummingbird
import HummingbirdTesting
import Ingest
import ObjectStorage
import Synchronization
import TestSupport
import Testing

/// `GET /` needs no token, so anyone can reload it: a damaged results part
/// must be a row on the page (it once crashed the process or made every
/// visit a 500), and many visits must cost the results store one look-up.
@Suite("Upload endpoint's status page")
struct StatusPageTests {
    /// A results store that counts its listings.
    final class Counting: ObjectStore, Sendable {
        let inner: LocalObjectStore
        let listings = Mutex(0)
        init(_ inner: LocalObjectStore) { self.inner = inner }
        var location: ObjectLocation { inner.location }
        func get(_ key: String) async throws -> [UInt8] { try await inner.get(key) }
        func getIfPresent(_ key: String) async throws -> [UInt8]? { try await inner.getIfPresent(key) }
        func put(_ key: String, _ bytes: [UInt8], contentType: String) async throws { try await inner.put(key, bytes, contentType: contentType) }
        func list(prefix: String) async throws -> [(key: String, size: Int)] {
            listings.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(50))  // a store's round trip: visits overlap the look-up
            return try await inner.list(prefix: prefix)
        }
        func delete(_ key: String) async throws { try await inner.delete(key) }
        func getVersioned(_ key: String) async throws -> (bytes: [UInt8], version: ObjectVersion)? { try await inner.getVersioned(key) }
        func put(_ key: String, _ bytes: [UInt8], contentType: String, ifUnchangedSince version: ObjectVersion?) async throws -> ObjectVersion {
            try await inner.put(key, bytes, contentType: contentType, ifUnchangedSince: version)
        }
        func abandonIncompleteWrites(under prefix: String, startedBefore date: Date) async throws -> Int { 0 }
    }

    @Test func damagedPartsAreARowAndManyVisitsOneLookUp() async throws {
        let directory = try LocalObjectStore(root: Tools.temporaryPath("status-\(UUID().uuidString.prefix(8))"))
        try await directory.put("pca/projected/part-00001-0000000000000001.parquet", Array("PAR1 not really".utf8), contentType: "application/octet-stream")
        try await directory.put("deadletters/part-00001-0000000000000001.parquet", [0x50, 0x41, 0x52, 0x31, 0, 0, 0, 0, 0x50, 0x41, 0x52, 0x31],
                                contentType: "application/octet-stream")
        let results = Counting(directory)
        let harness = try UploadServerTests.Harness(statusPage: UploadStatusPage(results: results))
        try await harness.test { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await client.execute(uri: "/", method: .get) { response in
                            #expect(response.status == .ok)
                            let page = String(buffer: response.body)
                            #expect(page.contains("unreadable parts, left out (their keys are logged)</th><td>2"), "\(page.prefix(3000))")
                            #expect(!page.contains("part-00001"), "no path on a page anyone can read")
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        // One look-up lists its three folders (projected parts, dead letters, model versions); 20 overlapping visits share it.
        #expect(results.listings.withLock { $0 } == 3)
    }
}
