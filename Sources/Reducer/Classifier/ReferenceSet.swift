import Events

/// The labelled images a classifier compares against: at most `perLabel`
/// per label, the ones with the smallest image ids. Ids are SHA-256 of the
/// URI, so this is a uniform sample that does not depend on arrival order:
/// the same images give the same set after any replay or restart.
///
/// Memory: the raw features of every reference (5 KiB each at 1,280
/// dimensions), so 200 per label over 131 labels is about 130 MiB.
struct ReferenceSet: Sendable {
    struct Reference: Sendable {
        let key: ImageKey
        let label: String
        let features: [Float]
    }

    let perLabel: Int
    /// Per label, sorted by key.
    private(set) var byLabel: [String: [Reference]] = [:]

    init(perLabel: Int) {
        precondition(perLabel >= 1, "a reference set keeps at least one image per label")
        self.perLabel = perLabel
    }

    var count: Int { byLabel.values.reduce(0) { $0 + $1.count } }

    /// Every reference, by label then key: a stable order for the published set.
    var all: [Reference] { byLabel.keys.sorted().flatMap { byLabel[$0]! } }

    /// Offers an image; returns whether it is now a reference. Unlabelled
    /// images and ones already held are never taken.
    @discardableResult
    mutating func offer(key: ImageKey, label: String, features: [Float]) -> Bool {
        guard !label.isEmpty else { return false }
        var references = byLabel[label, default: []]
        let index = references.partitioningIndex { $0.key >= key }
        guard index < perLabel, index == references.count || references[index].key != key else { return false }
        references.insert(Reference(key: key, label: label, features: features), at: index)
        if references.count > perLabel { references.removeLast() }
        byLabel[label] = references
        return true
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, for a predicate
    /// that is false then true along the array.
    func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
