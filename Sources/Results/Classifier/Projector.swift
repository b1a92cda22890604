import CLinearAlgebra

/// Projects features onto a PCA model's components with BLAS, one
/// matrix product per block of rows.
/// The same arithmetic as `PCAModel.project` (in Double), only faster.
package struct Projector: Sendable {
    package let k: Int
    package let dimension: Int
    private let mean: [Double]
    /// k rows of `dimension` values.
    private let components: [Double]

    package init(_ model: PCAModel) {
        k = model.k
        dimension = model.mean.count
        mean = model.mean
        components = model.components.flatMap { $0 }
    }

    /// Every row's coordinates, 512 rows per matrix product.
    package func project(rows: [[Float]]) -> [[Float]] {
        var projected: [[Float]] = []
        projected.reserveCapacity(rows.count)
        for start in stride(from: 0, to: rows.count, by: 512) {
            let block = rows[start..<min(start + 512, rows.count)]
            var centred = [Double]()
            centred.reserveCapacity(block.count * dimension)
            for row in block {
                precondition(row.count == dimension, "\(row.count) features for a model of \(dimension)")
                for index in 0..<dimension { centred.append(Double(row[index]) - mean[index]) }
            }
            var out = [Double](repeating: 0, count: block.count * k)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(block.count), Int32(k), Int32(dimension), 1,
                        centred, Int32(dimension), components, Int32(dimension), 0, &out, Int32(k))
            for row in 0..<block.count { projected.append(out[row * k..<(row + 1) * k].map { Float($0) }) }
        }
        return projected
    }
}
