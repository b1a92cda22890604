/// Why an image could not be turned into model input. Every case names a
/// machine-readable `reason`, used as-is in dead-letter records.
public enum ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case unsupportedFormat(String)
    case truncated(String)
    case corrupt(String)
    case tooLarge(width: Int, height: Int, limitPixels: Int)
    case tooSmall(width: Int, height: Int, minimumSide: Int)
    case unsupportedColorspace(String)
    /// A progressive JPEG with more scans than any encoder writes: decoding it
    /// would take quadratic time (libjpeg-turbo's TJFLAG_LIMITSCANS, 500 scans).
    case tooManyScans(String)
    /// Its decode needs more memory than the whole decode budget (`DecodeAdmission`).
    case exceedsDecodeMemory(String)

    public var reason: String {
        switch self {
        case .empty: "empty"
        case .unsupportedFormat: "unsupported_format"
        case .truncated: "truncated"
        case .corrupt: "corrupt"
        case .tooLarge: "too_large"
        case .tooSmall: "too_small"
        case .unsupportedColorspace: "unsupported_colorspace"
        case .tooManyScans: "too_many_scans"
        case .exceedsDecodeMemory: "exceeds_decode_memory"
        }
    }

    public var description: String {
        switch self {
        case .empty:
            "the file is empty (0 bytes)"
        case .unsupportedFormat(let format):
            "not a JPEG: looks like \(format); only JPEG photos are accepted"
        case .truncated(let detail):
            "the JPEG is truncated (\(detail)); re-upload the complete file"
        case .corrupt(let detail):
            "the JPEG cannot be decoded: \(detail)"
        case .tooLarge(let width, let height, let limit):
            "the image is \(width)x\(height) = \(width * height) pixels, above the limit of \(limit) pixels"
        case .tooSmall(let width, let height, let minimumSide):
            "the image is \(width)x\(height); both sides must be at least \(minimumSide) pixels"
        case .unsupportedColorspace(let colorspace):
            "unsupported JPEG colorspace \(colorspace)"
        case .tooManyScans(let detail):
            "the progressive JPEG has too many scans to decode in bounded time (\(detail))"
        case .exceedsDecodeMemory(let detail):
            "the JPEG cannot be decoded within this extractor's memory: \(detail)"
        }
    }
}
