import CLinearAlgebra

/// The sufficient statistics of an exact PCA, in Float64: the count, the
/// sum of the vectors and the sum of their outer products (the Gram
/// matrix, upper triangle). Accumulators of disjoint records merge by
/// addition, so the reduction can be partitioned later.
public struct PCAAccumulator: Sendable, Equatable {
    public let dimension: Int
    public private(set) var count: Int = 0
    public private(set) var sum: [Double]
    /// Row-major d x d; only the upper triangle (j >= i) is maintained.
    public private(set) var gram: [Double]

    public init(dimension: Int) {
        self.dimension = dimension
        self.sum = [Double](repeating: 0, count: dimension)
        self.gram = [Double](repeating: 0, count: dimension * dimension)
    }

    package init(dimension: Int, count: Int, sum: [Double], gram: [Double]) {
        self.dimension = dimension
        self.count = count
        self.sum = sum
        self.gram = gram
    }

    /// Adds a batch of vectors with one BLAS rank-k update.
    public mutating func add(_ rows: [[Float]]) {
        guard !rows.isEmpty else { return }
        let d = dimension
        var matrix = [Double](repeating: 0, count: rows.count * d)
        for (r, row) in rows.enumerated() {
            precondition(row.count == d, "a vector of \(row.count) values in a \(d)-dimensional PCA")
            for c in 0..<d {
                let value = Double(row[c])
                matrix[r * d + c] = value
                sum[c] += value
            }
        }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(rows.count), 1.0, matrix, Int32(d), 1.0, &gram, Int32(d))
        count += rows.count
    }

    public mutating func merge(_ other: PCAAccumulator) {
        precondition(other.dimension == dimension)
        count += other.count
        for i in 0..<dimension { sum[i] += other.sum[i] }
        for i in 0..<gram.count { gram[i] += other.gram[i] }
    }

    public var mean: [Double] { sum.map { $0 / Double(max(count, 1)) } }

    /// The sample covariance (divided by n - 1), full symmetric matrix.
    public func covariance() -> [Double] {
        let d = dimension, n = Double(count)
        var covariance = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in i..<d {
                let value = (gram[i * d + j] - sum[i] * sum[j] / n) / (n - 1)
                covariance[i * d + j] = value
                covariance[j * d + i] = value
            }
        }
        return covariance
    }
}
