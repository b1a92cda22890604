import Parquet
import Results

extension SoftmaxClassifier {
    /// `softmax.parquet` of a version that publishes the head.
    func file(version: Int) throws -> FlushCommit.File {
        let rows: [[ParquetValue]] = labels.indices.map { label in
            [.string(labels[label]), .floatList(Array(weights[label * dimension..<(label + 1) * dimension]) + [bias[label]])]
        }
        return .init(key: ResultsLayout.softmax(version: version), bytes: try ResultsLayout.encode(rows, schema: ResultsLayout.softmaxHead),
                     contentType: ResultsLayout.parquetType)
    }
}
