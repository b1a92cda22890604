/// How a JPEG becomes pixels before the 224x224 resize: at full size or
/// reduced in the DCT domain, and whether its EXIF orientation is applied.
///
/// The two named policies are what the pipeline runs: `seed` reproduces the
/// seed's features (Pillow `open().convert("RGB")`, orientation ignored), and
/// `upload` is for photos a person waits on (see docs/phone-photos.md for the
/// measurements behind it).
public struct DecodeOptions: Sendable, Equatable, CustomStringConvertible {
    public enum Scale: String, Sendable, CaseIterable {
        /// Every pixel decoded, then resized: Pillow's `convert("RGB").resize`.
        case exact
        /// libjpeg's 1/2, 1/4 or 1/8 DCT scaling first, keeping both sides at
        /// least `reducedMinimumSide`: Pillow's `draft("RGB", (side, side))`.
        case reduced
    }

    public enum Orientation: String, Sendable, CaseIterable {
        /// The pixels as stored, whatever the EXIF tag says (the seed's behaviour).
        case stored
        /// As the phone showed the photo: Pillow's `ImageOps.exif_transpose`.
        case exif
    }

    public var scale: Scale
    public var orientation: Orientation
    /// The smallest side a reduced decode may leave.
    public var reducedMinimumSide: Int

    /// Twice the model's 224, Pillow's default `reducing_gap` (2.0) for
    /// `thumbnail`: a 12 MP photo is decoded at 1/4. Four times (1/2) brings the
    /// features closer to exact, but an upload's answer p95 rises to about 175 ms,
    /// above its 150 ms target, and the published classifier changes as many
    /// near-tie answers on fruit drawn at 12 MP (docs/phone-photos.md).
    public static let defaultReducedMinimumSide = 2 * 224

    public init(scale: Scale = .exact, orientation: Orientation = .stored, reducedMinimumSide: Int = Self.defaultReducedMinimumSide) {
        precondition(reducedMinimumSide >= 1, "a reduced decode needs a positive minimum side")
        self.scale = scale
        self.orientation = orientation
        self.reducedMinimumSide = reducedMinimumSide
    }

    /// The seed's features, bit for bit: full decode, orientation ignored.
    public static let seed = DecodeOptions()
    /// A phone photo as its owner saw it, decoded at the smallest safe scale.
    public static let upload = DecodeOptions(scale: .reduced, orientation: .exif)

    /// Recorded with each image's features, e.g. "exact,stored" or "reduced448,exif".
    public var description: String {
        let scaleName = scale == .exact ? "exact" : "reduced\(reducedMinimumSide)"
        return "\(scaleName),\(orientation.rawValue)"
    }
}
