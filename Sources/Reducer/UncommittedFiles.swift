import Common
import ObjectStorage
import Results

extension ResultsLayout {
    /// The folders whose files are named by the flush that wrote them.
    static let flushFolders = ["features/", "deadletters/", "_references/", "pca/projected/"]
        + WrittenImages.Kind.allCases.map { "_ids/\($0.rawValue)/" }

    /// Files of flushes that no checkpoint committed: a crashed attempt's
    /// (its replay wrote the same sequence under another epoch) or a fenced
    /// reducer's. Files whose names are not flush names are left alone.
    static func uncommittedFiles(in store: any ObjectStore, checkpoint: ReducerCheckpoint) async throws -> [String] {
        // The folders are listed side by side: at S3's latency, one after another cost a round trip each.
        try await ConcurrentMap.map(flushFolders, parallelism: flushFolders.count) { folder in
            try await store.list(prefix: folder).map(\.key).filter { key in
                FlushName(key: key).map { !checkpoint.commits($0) } ?? false
            }
        }.flatMap { $0 }
    }
}
