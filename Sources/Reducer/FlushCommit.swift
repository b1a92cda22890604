import ObjectStorage

/// One flush of the reducer as it is committed: its files, each named by the
/// flush and the writer's epoch, then the checkpoint that counts them (the
/// commit point), a conditional replace of the version the writer last saw.
/// A crash in between leaves files that no checkpoint commits; the next
/// start removes them. A refused checkpoint means another reducer owns the
/// results: the files are removed again and the conflict is thrown.
package struct FlushCommit: Sendable {
    package struct File: Sendable {
        package let key: String
        package let bytes: [UInt8]
        package let contentType: String
    }

    let name: FlushName
    let files: [File]
    let checkpoint: ReducerCheckpoint

    /// Writes the files one after another (one flush's objects in memory at a
    /// time on the store's side), then the checkpoint; returns its new version.
    func commit(to store: any ObjectStore, replacing version: ObjectVersion?, crashPoint: CrashPoint? = nil) async throws -> ObjectVersion {
        for file in files { try await store.put(file) }
        crashPoint?.reached(.afterIDManifests, flush: checkpoint.sequence)
        do {
            return try await store.put(ResultsLayout.checkpoint, try checkpoint.serialized(), contentType: "application/octet-stream",
                                       ifUnchangedSince: version)
        } catch let conflict as ObjectStoreConflict {
            // They never count; the new owner's next start removes any left.
            for file in files { try? await store.delete(file.key) }
            throw conflict
        }
    }
}

extension ObjectStore {
    package func put(_ file: FlushCommit.File) async throws {
        try await put(file.key, file.bytes, contentType: file.contentType)
    }
}
