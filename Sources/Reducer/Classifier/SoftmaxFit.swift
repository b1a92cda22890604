import CLinearAlgebra
import Results

extension SoftmaxClassifier {
    /// How the head is fitted: full-batch gradient descent with Nesterov
    /// momentum on the mean cross-entropy plus `l2` / 2 x |W|^2, a fixed
    /// number of steps from zero: deterministic, and its cost is bounded
    /// (2 matrix products of rows x dimension x labels per step). On 2,000
    /// generated photos, 100 steps reach the accuracy of 300 within 0.3
    /// points, and l2 1e-3 costs 8 points against 1e-4 (docs/classifier.md).
    struct Fitting: Sendable, Codable {
        var l2: Float = 1e-4
        var iterations = 100
    }

    /// Fits on `features` (rows of equal length) and their labels. Features
    /// are centred and scaled to a mean squared norm of 1 while fitting; the
    /// loss's curvature is at most half the largest eigenvalue of their
    /// second moment (estimated by 20 power iterations from a fixed start)
    /// plus l2, and 1/2 + l2 for the bias, so each gets the inverse as its
    /// step. The centring and scale are folded into the result.
    /// Memory: one flat copy of the rows (4 bytes x rows x dimension).
    static func fit(features: [[Float]], labels: [String], fitting: Fitting = Fitting()) -> SoftmaxClassifier {
        precondition(!features.isEmpty && features.count == labels.count)
        let names = Array(Set(labels)).sorted()
        let classOf = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        let n = features.count, d = features[0].count, c = names.count
        var mean = [Double](repeating: 0, count: d)
        for row in features { for j in 0..<d { mean[j] += Double(row[j]) } }
        mean = mean.map { $0 / Double(n) }
        var x = [Float](repeating: 0, count: n * d)
        var squared = 0.0
        for (i, row) in features.enumerated() {
            for j in 0..<d {
                let centred = Double(row[j]) - mean[j]
                x[i * d + j] = Float(centred)
                squared += centred * centred
            }
        }
        let scale = Float(max((squared / Double(n)).squareRoot(), 1e-12))
        for index in x.indices { x[index] /= scale }
        let truth = labels.map { classOf[$0]! }

        let step = 1 / (0.5 * Self.largestEigenvalue(ofSecondMomentOf: x, rows: n, columns: d) + fitting.l2)
        let biasStep = 1 / (0.5 + fitting.l2)
        var w = [Float](repeating: 0, count: c * d), b = [Float](repeating: 0, count: c)
        var previousW = w, previousB = b
        var logits = [Float](repeating: 0, count: n * c), gradient = [Float](repeating: 0, count: c * d)
        for iteration in 0..<fitting.iterations {
            let momentum = Float(iteration) / Float(iteration + 3)
            let aheadW = zip(w, previousW).map { $0 + momentum * ($0 - $1) }
            let aheadB = zip(b, previousB).map { $0 + momentum * ($0 - $1) }
            for row in 0..<n { logits.replaceSubrange(row * c..<(row + 1) * c, with: aheadB) }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(c), Int32(d), 1,
                        x, Int32(d), aheadW, Int32(d), 1, &logits, Int32(c))
            // The residual (p - y) / n, in place of the logits.
            var gradientB = [Float](repeating: 0, count: c)
            for row in 0..<n {
                let p = softmax(logits[row * c..<(row + 1) * c])
                for label in 0..<c {
                    let residual = (p[label] - (label == truth[row] ? 1 : 0)) / Float(n)
                    logits[row * c + label] = residual
                    gradientB[label] += residual
                }
            }
            gradient = aheadW.map { fitting.l2 * $0 }
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(c), Int32(d), Int32(n), 1,
                        logits, Int32(c), x, Int32(d), 1, &gradient, Int32(d))
            previousW = w
            previousB = b
            w = zip(aheadW, gradient).map { $0 - step * $1 }
            b = zip(aheadB, gradientB).map { $0 - biasStep * $1 }
        }
        // W (x - mean) / scale + b = (W / scale) x + (b - (W / scale) . mean)
        let folded = w.map { $0 / scale }
        let bias = (0..<c).map { label in
            var shift = 0.0
            for j in 0..<d { shift += Double(folded[label * d + j]) * mean[j] }
            return Float(Double(b[label]) - shift)
        }
        return SoftmaxClassifier(labels: names, dimension: d, weights: folded, bias: bias)
    }
}

extension SoftmaxClassifier {
    /// The largest eigenvalue of X^T X / rows, by power iteration from the
    /// all-ones vector (deterministic); slightly above it, so a step from it stays stable.
    static func largestEigenvalue(ofSecondMomentOf x: [Float], rows: Int, columns: Int, iterations: Int = 20) -> Float {
        var vector = [Float](repeating: 1 / Float(columns).squareRoot(), count: columns)
        var projected = [Float](repeating: 0, count: rows)
        var eigenvalue: Float = 1
        for _ in 0..<iterations {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, x, Int32(columns), vector, 1, 0, &projected, 1)
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(rows), Int32(columns), 1 / Float(rows), x, Int32(columns), projected, 1, 0, &vector, 1)
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else { return 1 }
            eigenvalue = norm
            vector = vector.map { $0 / norm }
        }
        return eigenvalue * 1.05
    }
}
