
/// An image id (32 hex digits, see `EventIdentity.imageID`) held as two
/// 64-bit words: what dedupe sets and reference sets key on.
public struct ImageKey: Hashable, Comparable, Sendable {
    package let high: UInt64
    package let low: UInt64

    package init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// nil for anything but exactly 32 lowercase hex digits: no sign, no
    /// uppercase spelling of the same id.
    public init?(imageID: String) {
        let isLowercaseHex = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) }
        guard imageID.utf8.count == 32, imageID.utf8.allSatisfy(isLowercaseHex),
              let high = UInt64(imageID.prefix(16), radix: 16), let low = UInt64(imageID.suffix(16), radix: 16)
        else { return nil }
        self.high = high
        self.low = low
    }

    /// The 32 lowercase hex digits.
    public var hex: String {
        let high = String(self.high, radix: 16), low = String(self.low, radix: 16)
        return String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count) + low
    }

    public static func < (a: ImageKey, b: ImageKey) -> Bool { (a.high, a.low) < (b.high, b.low) }
}
