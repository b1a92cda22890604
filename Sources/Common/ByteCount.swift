import Foundation

/// Byte counts as people write them: "536870912", "512MiB", "1.5GiB", "800MB".
public enum ByteCount {
    private static let units: [(suffix: String, bytes: Double)] = [
        ("KiB", 0x1p10), ("MiB", 0x1p20), ("GiB", 0x1p30), ("TiB", 0x1p40),
        ("kB", 1e3), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
    ]

    /// The bytes, or nil unless the text is a non-negative number with an optional unit.
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let unit = units.first { trimmed.hasSuffix($0.suffix) }
        let number = unit.map { String(trimmed.dropLast($0.suffix.count)).trimmingCharacters(in: .whitespaces) } ?? trimmed
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let value = Double(number) else { return nil }
        let bytes = value * (unit?.bytes ?? 1)
        guard bytes.isFinite, bytes >= 0, bytes < 0x1p62 else { return nil }
        return Int(bytes.rounded(.down))
    }

    /// "512 MiB", "1.5 GiB": for logs and messages.
    public static func describe(_ bytes: Int) -> String {
        if bytes >= 1 << 30 { return "\((Double(bytes) / Double(1 << 30) * 10).rounded() / 10) GiB" }
        return "\((bytes + (1 << 19)) >> 20) MiB"
    }
}
