import Events

/// The records read since the last flush, at most one per image id. A
/// success read after a dead letter of the same image replaces it (a retried
/// extraction); a second success, or a second dead letter, is a duplicate.
/// A dead letter without an id (a malformed input) is always kept.
struct PendingBatch {
    private(set) var features: [Fruits_V1_FeatureEvent] = []
    private(set) var deadLetters: [Fruits_V1_DeadLetter] = []
    /// The ids of every held record.
    private(set) var keys: Set<ImageKey> = []

    var count: Int { features.count + deadLetters.count }
    var isEmpty: Bool { features.isEmpty && deadLetters.isEmpty }

    enum Outcome: Equatable {
        /// Held; `newKey` when its image was not in the batch before.
        case held(newKey: ImageKey?)
        case duplicate
    }

    mutating func add(_ event: Fruits_V1_FeatureEvent, key: ImageKey) -> Outcome {
        guard keys.insert(key).inserted else {
            guard let index = deadLetters.firstIndex(where: { $0.imageID == event.imageID }) else { return .duplicate }
            deadLetters.remove(at: index)
            features.append(event)
            return .held(newKey: nil)
        }
        features.append(event)
        return .held(newKey: key)
    }

    mutating func add(_ letter: Fruits_V1_DeadLetter) -> Outcome {
        guard let key = ImageKey(imageID: letter.imageID) else {
            deadLetters.append(letter)
            return .held(newKey: nil)
        }
        guard keys.insert(key).inserted else { return .duplicate }
        deadLetters.append(letter)
        return .held(newKey: key)
    }

    /// Drops what the results already hold: a feature event whose features a
    /// committed flush wrote, a dead letter of an image with features or a
    /// dead letter there. Returns how many were dropped.
    mutating func dropWritten(_ written: WrittenImages) -> Int {
        let before = count
        features.removeAll { event in ImageKey(imageID: event.imageID).map { written.contains($0, as: .features) } ?? true }
        deadLetters.removeAll { letter in
            ImageKey(imageID: letter.imageID).map { written.contains($0, as: .features) || written.contains($0, as: .deadLetters) } ?? false
        }
        return before - count
    }
}

/// Progress against `--expect-images`: distinct images read and accounted
/// for (committed, or found already written) by this process. It keeps no
/// set of every id: an image is accounted for once this process wrote it
/// (`WrittenImages` knows), or once it saw again an image the results held
/// before it started; only those, replays, are remembered here.
struct ExpectedImages {
    let expected: Int
    private(set) var accounted = 0
    private var seenAgain: Set<ImageKey> = []
    private var heldNotAccounted = 0

    init(_ expected: Int) { self.expected = expected }

    /// Images read so far: accounted for, or held in the pending batch.
    var read: Int { accounted + heldNotAccounted }
    var allRead: Bool { read >= expected }
    var allAccounted: Bool { accounted >= expected }

    mutating func held(_ key: ImageKey, written: WrittenImages) {
        if !isAccounted(key, written) { heldNotAccounted += 1 }
    }

    /// The pending batch with `keys` was committed; call it before `written`
    /// records the flush.
    mutating func committed(_ keys: Set<ImageKey>, written: WrittenImages) {
        for key in keys where !isAccounted(key, written) {
            if written.heldAtStart(key) { seenAgain.insert(key) }
            accounted += 1
        }
        heldNotAccounted = 0
    }

    private func isAccounted(_ key: ImageKey, _ written: WrittenImages) -> Bool {
        written.writtenSinceStart(key) || seenAgain.contains(key)
    }
}
