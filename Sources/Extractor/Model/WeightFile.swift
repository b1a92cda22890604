#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A read-only, memory-mapped fruits weight file ("FRUITSW1"; the format is
/// described in `tools/convert_weights.py`). Tensors are views into the
/// mapping: nothing is copied until the network folds and reorders them.
public final class WeightFile: @unchecked Sendable {
    // Immutable after init; the mapping is read-only, so sharing is safe.
    public struct Tensor: Sendable {
        public let name: String
        public let shape: [Int]
        let offset: Int
        let count: Int
    }

    public enum LoadError: Error, CustomStringConvertible {
        case cannotOpen(path: String, errno: Int32)
        case notAWeightFile(path: String, String)
        case missingTensor(String)
        case wrongShape(String, expected: [Int], found: [Int])

        public var description: String {
            switch self {
            case .cannotOpen(let path, let code):
                "cannot open the weights \(path)\(path.hasPrefix("/") ? "" : " (from \(FileManager.default.currentDirectoryPath))"): "
                    + "\(String(cString: strerror(code))); run scripts/fetch-weights in the fruits checkout, or give the file with --weights or FRUITS_WEIGHTS"
            case .notAWeightFile(let path, let why):
                "\(path) is not a fruits weight file (\(why)); run scripts/fetch-weights to rebuild it"
            case .missingTensor(let name):
                "the weight file has no tensor \(name)"
            case .wrongShape(let name, let expected, let found):
                "tensor \(name) has shape \(found), expected \(expected)"
            }
        }
    }

    public let path: String
    public let model: String
    private let tensors: [String: Tensor]
    private let base: UnsafeRawPointer
    private let length: Int

    public init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw LoadError.cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw LoadError.cannotOpen(path: path, errno: errno) }
        let length = Int(info.st_size)
        guard length >= 16 else { throw LoadError.notAWeightFile(path: path, "only \(length) bytes") }
        guard let mapping = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), mapping != MAP_FAILED else {
            throw LoadError.cannotOpen(path: path, errno: errno)
        }
        self.path = path
        self.base = UnsafeRawPointer(mapping)
        self.length = length
        do {
            (self.model, self.tensors) = try Self.parseHeader(base: base, length: length, path: path)
        } catch {
            munmap(mapping, length)
            throw error
        }
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), length) }

    private struct Header: Decodable {
        struct Entry: Decodable { let name: String; let shape: [Int]; let dtype: String; let offset: Int; let count: Int }
        let format: String
        let version: Int
        let model: String
        let tensors: [Entry]
    }

    private static func parseHeader(base: UnsafeRawPointer, length: Int, path: String) throws -> (String, [String: Tensor]) {
        guard Array(UnsafeRawBufferPointer(start: base, count: 8)) == Array("FRUITSW1".utf8) else {
            throw LoadError.notAWeightFile(path: path, "bad magic")
        }
        let headerLength = Int(UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        guard headerLength <= length - 16 else { throw LoadError.notAWeightFile(path: path, "header runs past the end") }
        let json = Data(bytes: base + 16, count: headerLength)
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: json) } catch {
            throw LoadError.notAWeightFile(path: path, "unreadable header: \(error)")
        }
        guard header.format == "fruits-weights", header.version == 1 else {
            throw LoadError.notAWeightFile(path: path, "format \(header.format) v\(header.version)")
        }
        var tensors: [String: Tensor] = [:]
        for entry in header.tensors {
            guard entry.dtype == "float32", entry.offset % 4 == 0, entry.offset >= 16 + headerLength,
                  entry.offset + entry.count * 4 <= length, entry.shape.reduce(1, *) == entry.count
            else { throw LoadError.notAWeightFile(path: path, "tensor \(entry.name) is out of bounds or malformed") }
            tensors[entry.name] = Tensor(name: entry.name, shape: entry.shape, offset: entry.offset, count: entry.count)
        }
        return (header.model, tensors)
    }

    public var tensorNames: [String] { tensors.keys.sorted() }

    /// The values of a tensor, checked against the shape the caller expects.
    public func values(_ name: String, shape: [Int]) throws -> UnsafeBufferPointer<Float> {
        guard let tensor = tensors[name] else { throw LoadError.missingTensor(name) }
        guard tensor.shape == shape else { throw LoadError.wrongShape(name, expected: shape, found: tensor.shape) }
        let start = (base + tensor.offset).assumingMemoryBound(to: Float.self)
        return UnsafeBufferPointer(start: start, count: tensor.count)
    }
}
