/// The classifiers a model version can publish; all are evaluated on the
/// same held-out references (`ClassifierComparison`).
public enum ClassifierKind: String, CaseIterable, Codable, Sendable {
    /// k nearest references by cosine in the model's PCA space.
    case knnPCA = "knn-pca"
    /// k nearest references by cosine on the raw 1,280 features.
    case knnFull = "knn-full"
    /// Multinomial logistic regression with L2 on the raw features.
    case softmax
}

/// Which classifier a version publishes: the best on the held-out
/// references, or the one the operator pinned.
public enum ClassifierChoice: Equatable, Sendable, CustomStringConvertible {
    case best
    case pinned(ClassifierKind)

    /// `auto`, or a `ClassifierKind` name.
    public init?(argument: String) {
        if argument == "auto" { self = .best } else if let kind = ClassifierKind(rawValue: argument) { self = .pinned(kind) } else { return nil }
    }

    public static let accepted = (["auto"] + ClassifierKind.allCases.map(\.rawValue)).joined(separator: ", ")

    public var description: String {
        switch self {
        case .best: "auto"
        case .pinned(let kind): kind.rawValue
        }
    }
}
