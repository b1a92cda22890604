import Foundation

/// Finds image files the way the backfill does: `*.jpg`/`*.jpeg` (any case)
/// below a directory, sorted by path so runs are reproducible.
public enum ImageFiles {
    public static let extensions: Set<String> = ["jpg", "jpeg"]

    public static func isImagePath(_ path: String) -> Bool {
        extensions.contains((path as NSString).pathExtension.lowercased())
    }

    /// Expands directories into the image files below them; plain files are kept as given.
    public static func expand(_ paths: [String]) -> [String] {
        paths.flatMap { path -> [String] in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                return [path]
            }
            let root = URL(fileURLWithPath: path)
            guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
                return []
            }
            var found: [String] = []
            for case let url as URL in walker where isImagePath(url.path) { found.append(url.path) }
            return found.sorted()
        }
    }
}
