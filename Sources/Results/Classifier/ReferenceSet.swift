import Events

/// The labelled images a classifier compares against: at most `perLabel`
/// per label, the ones with the smallest image ids. Ids are SHA-256 of the
/// URI, so this is a uniform sample that does not depend on arrival order:
/// the same images give the same set after any replay or restart.
///
/// Labels are free text from the open internet, so the classifier's
/// vocabulary is not: only a trusted source (a backfill's folders, the
/// operator's list in `trusted`) adds a label, at most `maxLabels` of them.
/// An upload's label outside the vocabulary stays with its image in the
/// results (feedback an operator can read) but never becomes a reference,
/// so no user can put a label into another user's answers.
///
/// Memory: the raw features of every reference, at most `maxLabels` x
/// `perLabel` of them (5 KiB each at 1,280 dimensions): 512 x 200 is 500
/// MiB at most; 131 labels x 200 is about 130 MiB.
package struct ReferenceSet: Sendable {
    package struct Reference: Sendable {
        package let key: ImageKey
        package let label: String
        package let features: [Float]
        /// Where the image is (`s3://…`, `file://…`): shown to the operator
        /// with the answers it is a neighbour of; empty in parts written before.
        package var uri = ""

        package init(key: ImageKey, label: String, features: [Float], uri: String = "") {
            self.key = key
            self.label = label
            self.features = features
            self.uri = uri
        }
    }

    package let perLabel: Int
    package let maxLabels: Int
    /// Per label, sorted by key.
    package private(set) var byLabel: [String: [Reference]] = [:]
    /// The labels a reference may have: the operator's, then those trusted
    /// sources brought, up to `maxLabels`.
    package private(set) var vocabulary: Set<String>

    package static let defaultMaxLabels = 512

    package init(perLabel: Int, maxLabels: Int = defaultMaxLabels, trusted: Set<String> = []) {
        precondition(perLabel >= 1, "a reference set keeps at least one image per label")
        precondition(maxLabels >= 1, "a reference set allows at least one label")
        self.perLabel = perLabel
        self.maxLabels = maxLabels
        vocabulary = Set(trusted.prefix(maxLabels))
    }

    /// The most references this set can hold, whatever it is offered.
    package var capacity: Int { perLabel * maxLabels }

    package var count: Int { byLabel.values.reduce(0) { $0 + $1.count } }

    /// Every reference, by label then key: a stable order for the published set.
    package var all: [Reference] { byLabel.keys.sorted().flatMap { byLabel[$0]! } }

    /// Offers an image; returns whether it is now a reference. Unlabelled
    /// images, ones already held, and labels outside the vocabulary from an
    /// untrusted source (or beyond `maxLabels`) are never taken.
    @discardableResult
    package mutating func offer(key: ImageKey, label: String, features: [Float], trusted: Bool = true, uri: String = "") -> Bool {
        guard !label.isEmpty, admits(label, trusted: trusted) else { return false }
        var references = byLabel[label, default: []]
        let index = references.partitioningIndex { $0.key >= key }
        guard index < perLabel, index == references.count || references[index].key != key else { return false }
        references.insert(Reference(key: key, label: label, features: features, uri: uri), at: index)
        if references.count > perLabel { references.removeLast() }
        byLabel[label] = references
        return true
    }

    private mutating func admits(_ label: String, trusted: Bool) -> Bool {
        if vocabulary.contains(label) { return true }
        guard trusted, vocabulary.count < maxLabels else { return false }
        vocabulary.insert(label)
        return true
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, for a predicate
    /// that is false then true along the array.
    package func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
