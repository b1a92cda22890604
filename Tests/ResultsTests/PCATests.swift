import Foundation
import TestSupport
import Testing

@testable import Results

@Suite("PCA: accumulate, merge, solve")
struct PCATests {
    static func rows(_ count: Int, seed: UInt64) -> [[Float]] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            // Mostly along (3, 4, 0) / 5, a little noise elsewhere.
            let t = Float.random(in: -10...10, using: &generator)
            return [0.6 * t + Float.random(in: -0.1...0.1, using: &generator), 0.8 * t + Float.random(in: -0.1...0.1, using: &generator),
                    Float.random(in: -0.1...0.1, using: &generator)]
        }
    }

    @Test func mergingTwoAccumulatorsEqualsAccumulatingEverything() {
        let first = Self.rows(40, seed: 1), second = Self.rows(25, seed: 2)
        var all = PCAAccumulator(dimension: 3)
        all.add(first + second)
        var left = PCAAccumulator(dimension: 3), right = PCAAccumulator(dimension: 3)
        left.add(first)
        right.add(second)
        left.merge(right)
        #expect(left.count == 65)
        #expect(zip(left.mean, all.mean).allSatisfy { abs($0 - $1) < 1e-9 })
        #expect(zip(left.covariance(), all.covariance()).allSatisfy { abs($0 - $1) < 1e-9 })
    }

    @Test func theFirstComponentIsTheDirectionOfMostVariance() throws {
        var accumulator = PCAAccumulator(dimension: 3)
        accumulator.add(Self.rows(200, seed: 3))
        let model = try PCAModel(accumulator, dimension: .components(2))
        #expect(model.k == 2 && model.nSamples == 200)
        // Sign fixed so the largest entry is positive: (0.6, 0.8, 0).
        #expect(abs(model.components[0][0] - 0.6) < 0.01 && abs(model.components[0][1] - 0.8) < 0.01)
        #expect(model.explainedVarianceRatio[0] > 0.99)
        let norms = model.components.map { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        #expect(norms.allSatisfy { abs($0 - 1) < 1e-9 })
        #expect(abs(zip(model.components[0], model.components[1]).reduce(0) { $0 + $1.0 * $1.1 }) < 1e-9)
        // A point t = 5 along the line projects to about 5 on the first component.
        let point: [Float] = [3, 4, 0].enumerated().map { Float(model.mean[$0.offset]) + $0.element }
        #expect(abs(model.project(point)[0] - 5) < 0.05)
        #expect(try PCAModel(accumulator, dimension: .variance(0.9)).k == 1)
    }
}
