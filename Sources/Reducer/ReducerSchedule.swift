/// When the reducer flushes, publishes a model and stops. The rules take the
/// counts and instants they depend on as arguments, so each one is testable
/// without a broker or a clock; `ReducerService.run` feeds them. The
/// service's configuration holds one (`Configuration.schedule`): the
/// defaults below are the only ones.
struct ReducerSchedule: Sendable {
    typealias Instant = ContinuousClock.Instant

    /// Why the reducer stops, and whether it then solves the PCA and projects the parts.
    enum Stop: Equatable, Sendable {
        /// Every expected image is accounted for (`expectedImages`).
        case allAccounted(finalize: Bool)
        /// No record for `exitWhenIdle`.
        case idle(finalize: Bool)
    }

    var flushRecords = 2_000
    var flushInterval: Duration = .seconds(30)
    var modelEvery: Duration? = .seconds(60)
    var modelMinImages = 1_000
    var modelFirstAfter: Duration = .seconds(60)
    var exitWhenIdle: Duration?
    var finalizeWhenDone = true

    /// The defaults of `ReducerService.Configuration`, which reads and sets these.
    init() {}

    /// Records taken from the consumer at once; a batch that fills the
    /// pending batch midway is flushed there (`isFull`), whatever its size.
    static let recordsPerRead = 1_000

    /// The pending batch holds `flushRecords`: flush before taking another record.
    func isFull(pending: Int) -> Bool { pending >= flushRecords }

    /// A full batch flushes at once; a partial one once `flushInterval` has
    /// passed, if any offset moved (dead letters and duplicates move offsets
    /// too, and their progress must be committed).
    func flushIsDue(pending: Int, offsetsMoved: Bool, lastFlush: Instant, now: Instant) -> Bool {
        pending >= flushRecords || (offsetsMoved && now - lastFlush >= flushInterval)
    }

    /// The first model once `modelMinImages` images are committed and the
    /// reducer has run `modelFirstAfter`; then every `modelEvery` if images
    /// arrived since the last one. `publishedSamples`: the images of the
    /// newest model, this process's or an earlier one's.
    func modelIsDue(images: Int, publishedSamples: Int, lastModel: (at: Instant, images: Int)?,
                    started: Instant, now: Instant) -> Bool {
        guard let every = modelEvery, images >= max(2, modelMinImages) else { return false }
        guard let last = lastModel else { return now - started >= modelFirstAfter && images != publishedSamples }
        return now - last.at >= every && images != last.images
    }

    /// Once every expected image is read and flushed: stop if all are accounted for.
    func stopWhenDone(allAccounted: Bool) -> Stop? {
        allAccounted ? .allAccounted(finalize: finalizeWhenDone) : nil
    }

    func stopWhenIdle(lastRecord: Instant, now: Instant) -> Stop? {
        guard let idle = exitWhenIdle, now - lastRecord >= idle else { return nil }
        return .idle(finalize: finalizeWhenDone)
    }
}
