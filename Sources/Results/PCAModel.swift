import CLinearAlgebra
import Foundation

/// Principal components from an accumulator: the eigendecomposition of the
/// sample covariance (LAPACK dsyevd), components sorted by explained variance.
public struct PCAModel: Sendable, Codable {
    public enum Dimension: Sendable {
        case components(Int)
        /// The fewest components explaining at least this fraction.
        case variance(Double)
    }

    public let k: Int
    public let nSamples: Int
    public let mean: [Double]
    /// k rows of `mean.count` values, orthonormal.
    public let components: [[Double]]
    public let explainedVariance: [Double]
    /// Over all dimensions, not only the k kept.
    public let explainedVarianceRatio: [Double]
    /// The ratio of every component, not only the k kept: the curve that
    /// picks k. Absent from models written before it existed.
    public let spectrum: [Double]?
    /// Set when published: 1, 2, … over the life of the results, and when.
    public var version: Int?
    public var createdAt: String?
    /// The classifier published with this version.
    public var classifier: ClassifierSummary?

    enum CodingKeys: String, CodingKey {
        case k, mean, components, spectrum, version, classifier
        case createdAt = "created_at"
        case nSamples = "n_samples"
        case explainedVariance = "explained_variance"
        case explainedVarianceRatio = "explained_variance_ratio"
    }

    public struct SolveError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Every reader of a `model.json` gets these shapes checked (see
    /// `checkShapes`), so none indexes past an array or hands BLAS a matrix
    /// smaller than the sizes it is told.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        k = try values.decode(Int.self, forKey: .k)
        nSamples = try values.decode(Int.self, forKey: .nSamples)
        mean = try values.decode([Double].self, forKey: .mean)
        components = try values.decode([[Double]].self, forKey: .components)
        explainedVariance = try values.decode([Double].self, forKey: .explainedVariance)
        explainedVarianceRatio = try values.decode([Double].self, forKey: .explainedVarianceRatio)
        spectrum = try values.decodeIfPresent([Double].self, forKey: .spectrum)
        version = try values.decodeIfPresent(Int.self, forKey: .version)
        createdAt = try values.decodeIfPresent(String.self, forKey: .createdAt)
        classifier = try values.decodeIfPresent(ClassifierSummary.self, forKey: .classifier)
        if let flaw = shapeFlaw {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: flaw))
        }
    }

    public init(_ accumulator: PCAAccumulator, dimension: Dimension) throws {
        let d = accumulator.dimension
        guard accumulator.count >= 2 else { throw SolveError(description: "PCA needs at least 2 samples, has \(accumulator.count)") }
        var matrix = accumulator.covariance()
        var eigenvalues = [Double](repeating: 0, count: d)
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(d), &matrix, Int32(d), &eigenvalues)
        guard info == 0 else { throw SolveError(description: "LAPACKE_dsyevd failed with info \(info)") }
        // Ascending from LAPACK; rounding can leave tiny negatives.
        let order = Array((0..<d).reversed())
        let values = order.map { max(eigenvalues[$0], 0) }
        let total = values.reduce(0, +)
        let ratios = values.map { total > 0 ? $0 / total : 0 }
        let k: Int
        switch dimension {
        case .components(let wanted):
            // n samples span at most n - 1 centred directions; more would be arbitrary.
            k = min(max(wanted, 1), d, accumulator.count - 1)
        case .variance(let fraction):
            var cumulative = 0.0
            k = (ratios.firstIndex { cumulative += $0; return cumulative >= fraction - 1e-12 } ?? (d - 1)) + 1
        }
        self.k = k
        self.nSamples = accumulator.count
        self.mean = accumulator.mean
        self.explainedVariance = Array(values.prefix(k))
        self.explainedVarianceRatio = Array(ratios.prefix(k))
        // n samples span at most n - 1 directions; the rest of the spectrum is rounding.
        self.spectrum = Array(ratios.prefix(min(d, accumulator.count - 1)))
        // Column `order[i]` of the row-major eigenvector matrix is component i;
        // its sign is fixed so the largest-magnitude entry is positive.
        self.components = order.prefix(k).map { column in
            var vector = (0..<d).map { matrix[$0 * d + column] }
            let largest = vector.indices.max { abs(vector[$0]) < abs(vector[$1]) }!
            if vector[largest] < 0 { vector = vector.map { -$0 } }
            return vector
        }
    }

    /// (x - mean) . components^T, in Float.
    public func project(_ features: [Float]) -> [Float] {
        components.map { component in
            var total = 0.0
            for i in 0..<component.count { total += (Double(features[i]) - mean[i]) * component[i] }
            return Float(total)
        }
    }
}
