import Results

/// How each model version's classifier is chosen, fitted and watched
/// (`fruits reduce` / `fruits run` flags `--classifier`, `--quality-drop`).
public struct ClassifierOptions: Sendable {
    /// `auto`: the best on the held-out references; or a pinned kind.
    public var choice: ClassifierChoice = .best
    /// A published classifier's held-out accuracy this far (in points of
    /// accuracy, 0.02 = 2 points) below the previous version's is a drop:
    /// logged and counted in `fruits_classifier_quality_drops_total`.
    public var qualityDropThreshold = 0.02
    var heldOutFraction = HeldOutSplit.defaultFraction
    var seed = HeldOutSplit.defaultSeed
    var fitting = SoftmaxClassifier.Fitting()

    public init() {}
}
