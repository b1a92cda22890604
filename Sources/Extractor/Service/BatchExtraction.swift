/// A batch's images fetched and turned into features one by one: each photo
/// goes to the inference pool as soon as its bytes arrive and gives them back
/// to the `FetchBudget` once decoded, so a batch of large objects never holds
/// more than the budget, and never waits on its own bytes.
struct BatchExtraction: Sendable {
    /// Why an image has no features: the reason and detail of its dead letter.
    struct Failure: Error, Equatable {
        let reason: String
        let detail: String
    }

    let fetch: ImageFetch
    /// nil: fetched bytes are not bounded (every request of the batch at once).
    let budget: FetchBudget?
    /// What a request reserves before its size is known: the fetcher's object limit.
    let maxObjectBytes: Int
    let features: any FeatureSource

    /// One result per URI, in order. Throws what stops the service (see `ImageFetch`).
    func features(of uris: [String], priority: InferencePool.Priority, decoding: DecodeOptions) async throws -> [Result<[Float], Failure>] {
        try await withThrowingTaskGroup(of: (Int, Result<[Float], Failure>).self) { group in
            for (index, uri) in uris.enumerated() {
                group.addTask { (index, try await features(of: uri, priority: priority, decoding: decoding)) }
            }
            var results = [Result<[Float], Failure>](repeating: .failure(Failure(reason: "", detail: "")), count: uris.count)
            for try await (index, result) in group { results[index] = result }
            return results
        }
    }

    private func features(of uri: String, priority: InferencePool.Priority, decoding: DecodeOptions) async throws -> Result<[Float], Failure> {
        try await budget?.acquire(maxObjectBytes, isUpload: priority == .interactive)
        var held = maxObjectBytes
        defer { if let budget, held > 0 { Task { [held] in await budget.release(held) } } }
        let jpeg: [UInt8]
        switch try await fetch.fetch(uri) {
        case .failure(let error):
            return .failure(Failure(reason: "unreadable_object", detail: "\(error)"))
        case .success(let bytes):
            jpeg = bytes
        }
        if let budget {
            await budget.release(held - min(jpeg.count, held))
            held = min(jpeg.count, held)
        }
        let result = try await features.features(ofJPEGs: [jpeg], priority: priority, decoding: decoding)[0]
        if let budget {
            await budget.release(held)
            held = 0
        }
        return result.mapError { Failure(reason: $0.reason, detail: $0.description) }
    }
}
