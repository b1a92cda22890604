import ArgumentParser
import Common
import Extractor
import Foundation

struct Featurize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the 1280 MobileNetV2 features of each image as JSON lines.",
        discussion: """
            Each line is {"path": ..., "features": [1280 floats]}. Directories are searched for *.jpg. \
            A file that cannot be read or decoded is reported on stderr; the others are still processed \
            and the exit code is 1.
            """
    )

    @OptionGroup var model: ModelOptions

    @Argument(help: "JPEG files or directories.")
    var images: [String]

    func run() throws {
        let extractor = try model.makeExtractor()
        let paths = ImageFiles.expand(images)
        var failures = 0
        var output = BufferedOutput.standardOutput
        for chunk in stride(from: 0, to: paths.count, by: model.batch).map({ Array(paths[$0..<min($0 + model.batch, paths.count)]) }) {
            var prepared: [(path: String, image: RGBImage)] = []
            for path in chunk {
                do {
                    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
                    prepared.append((path, try extractor.prepare(jpeg: bytes)))
                } catch let error as ImageError {
                    failures += 1
                    StandardError.write("\(path): \(error.reason): \(error)\n")
                } catch {
                    failures += 1
                    StandardError.write("\(path): unreadable: \(error.localizedDescription)\n")
                }
            }
            let features = try extractor.features(of: prepared.map(\.image))
            for (item, vector) in zip(prepared, features) {
                output.write(FeatureLine.json(path: item.path, features: vector))
            }
            output.flush()
        }
        if failures > 0 {
            StandardError.write("\(failures) of \(paths.count) images failed\n")
            throw ExitCode(1)
        }
    }
}

enum FeatureLine {
    static func json(path: String, features: [Float]) -> String {
        var line = "{\"path\":" + jsonString(path) + ",\"features\":["
        line.reserveCapacity(line.utf8.count + features.count * 12)
        for (index, value) in features.enumerated() {
            if index > 0 { line += "," }
            line += value.description
        }
        return line + "]}\n"
    }

    static func jsonString(_ value: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [value], options: [.withoutEscapingSlashes])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
