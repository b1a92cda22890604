import Foundation

extension PCAModel {
    /// The most dimensions a model may have: bounds what a hostile file makes a reader allocate and multiply.
    package static let maximumDimension = 1 << 16

    /// Reads a `model.json`; every error names `file`. With `dimension`, a
    /// model of other features (its mean has another length) is refused too.
    public static func decode(_ bytes: [UInt8], file: String, dimension: Int? = nil) throws -> PCAModel {
        let model: PCAModel
        do { model = try JSONDecoder().decode(PCAModel.self, from: Data(bytes)) } catch let DecodingError.dataCorrupted(context) {
            throw UnreadableFile(file: file, why: "not a PCA model: \(context.debugDescription)")
        } catch {
            throw UnreadableFile(file: file, why: "not a PCA model: \(error)")
        }
        if let dimension, model.mean.count != dimension {
            throw UnreadableFile(file: file, why: "a model of \(model.mean.count)-dimensional features, and these are \(dimension)-dimensional")
        }
        return model
    }

    /// What is wrong with this model's shapes, counts and values, if anything:
    /// d = mean.count, k rows of d components, k variances and ratios, finite numbers.
    package var shapeFlaw: String? {
        let d = mean.count
        guard (1...Self.maximumDimension).contains(d) else { return "a mean of \(d) values, not 1 to \(Self.maximumDimension)" }
        guard (1...d).contains(k) else { return "k = \(k), not from 1 to the dimension \(d)" }
        guard components.count == k, components.allSatisfy({ $0.count == d }) else {
            return "components are not \(k) rows of \(d) values: \(components.count) rows of \(Set(components.map(\.count)).sorted()) values"
        }
        guard explainedVariance.count == k, explainedVarianceRatio.count == k else {
            return "\(explainedVariance.count) explained variances and \(explainedVarianceRatio.count) ratios for k = \(k)"
        }
        guard (spectrum?.count ?? 0) <= d else { return "a spectrum of \(spectrum?.count ?? 0) ratios in \(d) dimensions" }
        let numbers = [mean, explainedVariance, explainedVarianceRatio, spectrum ?? []] + components
        guard numbers.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { return "a number that is not finite" }
        guard nSamples >= 2 else { return "fitted on \(nSamples) samples; a PCA needs at least 2" }
        guard (version ?? 1) >= 1 else { return "version \(version ?? 0)" }
        return classifier?.shapeFlaw
    }
}

extension ClassifierSummary {
    package var shapeFlaw: String? {
        guard neighbours >= 1 else { return "a classifier of \(neighbours) neighbours; it needs at least 1" }
        guard references >= 0, labels >= 0, labels <= references, referencesPerLabel >= 1 else {
            return "a classifier of \(references) references of \(labels) labels, \(referencesPerLabel) per label"
        }
        return nil
    }
}
