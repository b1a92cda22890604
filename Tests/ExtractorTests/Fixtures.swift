import Foundation
import TestSupport
import Testing

@testable import Extractor

/// The golden fixtures made by `tools/make_fixtures.py` (Pillow + TensorFlow).
enum Fixtures {
    struct Good: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let width: Int
        let height: Int
        let mode: String
        var testDescription: String { "\(name) (\(width)x\(height) \(mode))" }
    }

    struct Manifest: Decodable {
        let good: [Good]
        let bad: [String]
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static let manifest: Manifest = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try! JSONDecoder().decode(Manifest.self, from: data)
    }()

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(relativePath)))
    }

    static func floats(_ relativePath: String) throws -> [Float] {
        let data = try Data(contentsOf: directory.appendingPathComponent(relativePath))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    static var weightsPath: String { Tools.weights }

    static let weights: Result<WeightFile, any Error> = Result { try WeightFile(path: weightsPath) }
}
