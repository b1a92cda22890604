import ObjectStorage
import Parquet
import Results

/// One flush of the reducer as it is committed: its files, each named by the
/// flush and the writer's epoch, then the checkpoint that counts them (the
/// commit point), a conditional replace of the version the writer last saw.
/// A crash in between leaves files that no checkpoint commits; the next
/// start removes them. A refused checkpoint means another reducer owns the
/// results: the conflict is thrown, and the files are removed again only if
/// the checkpoint now in place does not count them. It may: a first attempt
/// that landed but whose answer was lost, then a new owner that claimed on
/// top of it, make a retry fail although the flush is committed, and its
/// files are the new owner's data now.
package struct FlushCommit: Sendable {
    /// A file of the flush; its bytes are made when it is written, so a
    /// flush holds one encoded file at a time, not all of them.
    package struct File: Sendable {
        package let key: String
        package let contentType: String
        package let contents: @Sendable () throws -> [UInt8]

        package init(key: String, contentType: String, contents: @escaping @Sendable () throws -> [UInt8]) {
            self.key = key
            self.contentType = contentType
            self.contents = contents
        }

        package init(key: String, bytes: [UInt8], contentType: String) {
            self.init(key: key, contentType: contentType) { bytes }
        }

        static func parquet(_ key: String, _ rows: [[ParquetValue]], _ schema: ParquetSchema) -> File {
            File(key: key, contentType: ResultsLayout.parquetType) { try ResultsLayout.encode(rows, schema: schema) }
        }
    }

    let name: FlushName
    let files: [File]
    let checkpoint: ReducerCheckpoint

    /// Writes the files one after another, each encoded just before, then
    /// the checkpoint; returns its new version. It runs on the caller's
    /// actor, so the reducer encodes on its own thread.
    func commit(
        to store: any ObjectStore, replacing version: ObjectVersion?, crashPoint: CrashPoint? = nil,
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> ObjectVersion {
        for file in files { try await store.put(file) }
        crashPoint?.reached(.afterIDManifests, flush: checkpoint.sequence)
        do {
            return try await store.put(ResultsLayout.checkpoint, try checkpoint.serialized(), contentType: "application/octet-stream",
                                       ifUnchangedSince: version)
        } catch let conflict as ObjectStoreConflict {
            guard try await !Self.isCommitted(name, in: store) else { throw conflict }
            // Not committed now, so never: the checkpoint in place descends from
            // another writer, not from this flush. The new owner's next start
            // removes anything left.
            for file in files { try? await store.delete(file.key) }
            throw conflict
        }
    }
}

extension FlushCommit {
    /// Whether the checkpoint in place counts `flush` (an unreadable one
    /// throws: nothing is deleted on a guess).
    static func isCommitted(_ flush: FlushName, in store: any ObjectStore) async throws -> Bool {
        guard let bytes = try await store.getIfPresent(ResultsLayout.checkpoint) else { return false }
        return try ReducerCheckpoint(bytes: bytes).commits(flush)
    }
}

extension ObjectStore {
    package func put(_ file: FlushCommit.File) async throws {
        try await put(file.key, try file.contents(), contentType: file.contentType)
    }
}
