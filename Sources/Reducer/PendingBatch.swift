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

/// For a run of known size (`--expect-images`): which distinct images this
/// process has read are now accounted for (committed, as features or dead
/// letters, or found already written), and how many held ones are not yet.
struct ExpectedImages {
    let expected: Int
    private(set) var accounted: Set<ImageKey> = []
    private var heldNotAccounted = 0

    init(_ expected: Int) { self.expected = expected }

    /// Images read so far: accounted for, or held in the pending batch.
    var read: Int { accounted.count + heldNotAccounted }
    var allRead: Bool { read >= expected }
    var allAccounted: Bool { accounted.count >= expected }

    mutating func held(_ key: ImageKey) {
        if !accounted.contains(key) { heldNotAccounted += 1 }
    }

    /// The pending batch was committed (or found written).
    mutating func committed(_ keys: Set<ImageKey>) {
        accounted.formUnion(keys)
        heldNotAccounted = 0
    }
}
