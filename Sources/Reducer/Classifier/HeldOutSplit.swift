import Common

/// The evaluation protocol every classifier is measured by: of each label's
/// references, a fixed fraction (at least one) is held out and the rest
/// train, chosen by a seeded shuffle, so every classifier of a version sees
/// the same split and a replay of the same references gives the same one.
/// A label with a single reference only trains.
struct HeldOutSplit: Sendable {
    /// Indices into the references, in their order.
    let training: [Int]
    let heldOut: [Int]
    let fraction: Double
    let seed: UInt64

    static let defaultFraction = 0.2
    static let defaultSeed: UInt64 = 28

    init(labels: [String], fraction: Double = defaultFraction, seed: UInt64 = defaultSeed) {
        precondition(fraction > 0 && fraction < 1, "a held-out fraction is between 0 and 1")
        var byLabel: [String: [Int]] = [:]
        for (index, label) in labels.enumerated() { byLabel[label, default: []].append(index) }
        var generator = SplitMix64(seed: seed)
        var training: [Int] = [], heldOut: [Int] = []
        for label in byLabel.keys.sorted() {
            var indices = byLabel[label]!
            indices.shuffle(using: &generator)
            let held = indices.count < 2 ? 0 : min(indices.count - 1, max(1, Int((Double(indices.count) * fraction).rounded())))
            heldOut += indices.prefix(held)
            training += indices.dropFirst(held)
        }
        self.training = training.sorted()
        self.heldOut = heldOut.sorted()
        self.fraction = fraction
        self.seed = seed
    }

    var method: String {
        "stratified held-out split: \(Int((fraction * 100).rounded())) % of each label's references (at least 1 of labels with 2 or more), "
            + "seeded shuffle (seed \(seed)); the rest train"
    }
}
