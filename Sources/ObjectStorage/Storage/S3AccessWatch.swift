/// Tells a denial that concerns one object from access lost for every object.
/// S3 answers 403 AccessDenied both when a role lost s3:GetObject (every
/// object) and when one object is out of its reach (a KMS key it may not
/// use, a policy on that key): the answer alone cannot tell. Evidence can:
///
/// - a probe: the object last read from the same bucket, asked for again (its
///   first byte). Granted: access works, the denial is the object's. Refused
///   too: access is lost.
/// - with nothing to probe (nothing read from the bucket yet, or that object
///   is gone): `lossThreshold` distinct objects denied in a row, none granted
///   in between, means access is lost; fewer are the objects' own.
///
/// A batch that holds only denied objects, read by an extractor that has read
/// nothing from their bucket yet, therefore stops it: the same answers as a
/// role without access, and stopping loses nothing (the batch is not
/// committed), where dead-lettering would.
public actor S3AccessWatch {
    public enum Verdict: Sendable, Equatable {
        /// The object is to blame; the evidence.
        case object(String)
        /// Access is lost for the service; the evidence.
        case service(String)
    }

    private let client: S3Client?
    public let lossThreshold: Int
    /// A probe's answer stands for this long: a batch of denials asks once.
    private let probeReuse: Duration
    /// Per bucket, the object last read: what a probe asks for.
    private var lastGranted: [String: String] = [:]
    /// Per bucket, the objects denied since one was last granted (at most `lossThreshold`).
    private var deniedInARow: [String: Set<String>] = [:]
    private var probes: [String: (at: ContinuousClock.Instant, verdict: Task<Verdict?, Never>)] = [:]
    /// More buckets than a pipeline reads from; past it the evidence starts over.
    private static let maximumBuckets = 256

    public init(client: S3Client?, lossThreshold: Int = 8, probeReuse: Duration = .seconds(2)) {
        self.client = client
        self.lossThreshold = max(lossThreshold, 1)
        self.probeReuse = probeReuse
    }

    public func granted(bucket: String, key: String) {
        if lastGranted[bucket] == nil, lastGranted.count >= Self.maximumBuckets { lastGranted = [:] }
        lastGranted[bucket] = key
        deniedInARow[bucket] = nil
    }

    public func denied(bucket: String, key: String) {
        if deniedInARow[bucket] == nil, deniedInARow.count >= Self.maximumBuckets { deniedInARow = [:] }
        guard deniedInARow[bucket, default: []].count < lossThreshold else { return }
        deniedInARow[bucket, default: []].insert(key)
    }

    /// Whether the latest denial in `bucket` is its object's or the service's.
    public func verdict(bucket: String) async -> Verdict {
        if let probed = await probe(bucket) { return probed }
        let denied = deniedInARow[bucket]?.count ?? 0
        guard denied >= lossThreshold else {
            return .object("\(denied) distinct object(s) of \(bucket) denied since one was last read, fewer than \(lossThreshold)")
        }
        return .service("\(denied) distinct objects of \(bucket) denied in a row, none read in between")
    }

    /// The probe's verdict, nil without one (nothing to probe, or its answer
    /// says nothing about access: the object is gone, S3 does not answer).
    private func probe(_ bucket: String) async -> Verdict? {
        guard let client, let key = lastGranted[bucket] else { return nil }
        if let recent = probes[bucket], ContinuousClock.now - recent.at < probeReuse { return await recent.verdict.value }
        let probing = Task { () -> Verdict? in
            do {
                _ = try await client.getObject(bucket: bucket, key: key, range: 0...0)
                return .object("\(bucket)/\(key), read before, is still granted")
            } catch let error as S3Error where error.blame == .service || error.blame == .denial {
                return .service("\(bucket)/\(key), read before, is refused too (\(error.code ?? "\(error)"))")
            } catch {
                return nil
            }
        }
        if probes[bucket] == nil, probes.count >= Self.maximumBuckets { probes = [:] }
        probes[bucket] = (.now, probing)
        let verdict = await probing.value
        if verdict == nil, lastGranted[bucket] == key { lastGranted[bucket] = nil }
        return verdict
    }
}
