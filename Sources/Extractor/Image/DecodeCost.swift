/// The bytes a decode will hold at its peak, read from the JPEG's frame
/// header before any pixel is decoded: what `DecodeAdmission` reserves.
///
/// - coefficients: a progressive JPEG (or a baseline one whose components
///   come in separate scans) keeps every DCT coefficient of the whole image
///   until its last scan: 64 × 2 bytes per 8x8 block of each component, at full
///   size whatever the decode's scale (libjpeg's whole-image coefficient arrays);
/// - pixels: libjpeg's output at the decode's scale (4 bytes a pixel for CMYK,
///   3 otherwise) and the RGB conversion of a CMYK image (an EXIF-turned photo
///   needs no turned copy: `PillowResize.resize(_:width:height:)` resizes it
///   along its shown axes);
/// - working: libjpeg's row groups and the resize's first pass, 224 lines of
///   the longer side at most (a vertical pass first for a quarter-turned photo).
///
/// A 50 MP progressive CMYK photo decoded exactly needs about 0.76 GB, 0.4 GB
/// of it coefficients; decoded at 1/8 it still needs those 0.4 GB. docs/extractor.md, "Memory budget".
public struct DecodeCost: Sendable, Equatable, CustomStringConvertible {
    public let width: Int
    public let height: Int
    public let components: Int
    /// Whether the decode keeps the whole image's coefficients.
    public let buffersCoefficients: Bool
    public let denominator: Int
    public let coefficientBytes: Int
    public let pixelBytes: Int
    public let workingBytes: Int

    public var bytes: Int { coefficientBytes + pixelBytes + workingBytes }

    /// "8660x5773 progressive, 4 components, decoded at 1/1: 758 MB
    /// (coefficients 401 MB, pixels 350 MB, working 7 MB)".
    public var description: String {
        let kind = buffersCoefficients ? "progressive" : "baseline"
        return "\(width)x\(height) \(kind), \(components) components, decoded at 1/\(denominator): \(megabytes(bytes))"
            + " (coefficients \(megabytes(coefficientBytes)), pixels \(megabytes(pixelBytes)), working \(megabytes(workingBytes)))"
    }

    private func megabytes(_ bytes: Int) -> String { "\((bytes + 999_999) / 1_000_000) MB" }

    /// The cost of decoding `jpeg` with `options`; nil when the header cannot
    /// be read (the decoder then refuses the file before allocating anything).
    public static func of(_ jpeg: UnsafeBufferPointer<UInt8>, options: DecodeOptions) -> DecodeCost? {
        guard let frame = JPEGFrameHeader.read(jpeg) else { return nil }
        return DecodeCost(frame: frame, options: options)
    }

    public static func of(_ jpeg: [UInt8], options: DecodeOptions) -> DecodeCost? {
        jpeg.withUnsafeBufferPointer { of($0, options: options) }
    }

    init(frame: JPEGFrameHeader, options: DecodeOptions) {
        width = frame.width
        height = frame.height
        components = frame.components.count
        buffersCoefficients = frame.buffersCoefficients
        denominator = options.scale == .reduced
            ? JPEGReduction.denominator(width: width, height: height, minimumSide: options.reducedMinimumSide) : 1
        let maxH = frame.components.map(\.horizontal).max() ?? 1, maxV = frame.components.map(\.vertical).max() ?? 1
        // libjpeg's jdiv_round_up(width * h, maxH * 8), padded to whole MCUs (jround_up(blocks, h)).
        func blocks(_ side: Int, _ factor: Int, _ maxFactor: Int) -> Int {
            let count = (side * factor + maxFactor * 8 - 1) / (maxFactor * 8)
            return (count + factor - 1) / factor * factor
        }
        coefficientBytes = !frame.buffersCoefficients ? 0 : frame.components.reduce(0) { sum, component in
            sum + blocks(frame.width, component.horizontal, maxH) * blocks(frame.height, component.vertical, maxV) * 64 * 2
        }
        let scaledWidth = JPEGReduction.scaled(width, by: denominator), scaledHeight = JPEGReduction.scaled(height, by: denominator)
        let scaledPixels = scaledWidth * scaledHeight
        let cmyk = components == 4
        pixelBytes = scaledPixels * (cmyk ? 4 : 3) + (cmyk ? scaledPixels * 3 : 0)
        // Row groups of every component (with the context rows of fancy
        // upsampling), the output's row pointers, the resize's first pass.
        workingBytes = scaledWidth * maxV * 8 * components * 3 + scaledHeight * 8 + MobileNetV2.inputSize * max(scaledWidth, scaledHeight) * 3
    }
}

/// The frame header (SOFn) of a JPEG and whether its first scan holds every
/// component: the facts a decode's memory follows from.
struct JPEGFrameHeader: Equatable {
    struct Component: Equatable {
        var horizontal: Int
        var vertical: Int
    }

    var width: Int
    var height: Int
    var components: [Component]
    var progressive: Bool
    /// Components in the first scan; fewer than the frame's means a
    /// multi-scan baseline file, which libjpeg buffers like a progressive one.
    var firstScanComponents: Int

    var buffersCoefficients: Bool { progressive || firstScanComponents < components.count }

    /// The header, or nil for anything malformed: the decoder will say what.
    /// Every segment before the first scan is walked, however many (each
    /// step skips a whole segment, so the walk is linear in the file): a
    /// file libjpeg would decode is never one whose cost is unknown.
    static func read(_ jpeg: UnsafeBufferPointer<UInt8>) -> JPEGFrameHeader? {
        guard jpeg.count >= 4, jpeg[0] == 0xFF, jpeg[1] == 0xD8 else { return nil }
        var frame: JPEGFrameHeader?
        var index = 2
        while index + 3 < jpeg.count {
            guard jpeg[index] == 0xFF else { return nil }
            let marker = jpeg[index + 1]
            if marker == 0xFF { index += 1; continue }  // fill byte
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { index += 2; continue }  // no length
            let length = Int(jpeg[index + 2]) << 8 | Int(jpeg[index + 3])
            let end = index + 2 + length
            guard length >= 2, end <= jpeg.count else { return nil }
            let body = UnsafeBufferPointer(rebasing: jpeg[(index + 4)..<end])
            switch marker {
            case 0xC0...0xCF where ![0xC4, 0xC8, 0xCC].contains(marker):
                guard frame == nil, let parsed = parseFrame(body, progressive: [0xC2, 0xC6, 0xCA, 0xCE].contains(marker)) else { return nil }
                frame = parsed
            case 0xDA:
                guard var frame, let count = body.first, count >= 1 else { return nil }
                frame.firstScanComponents = Int(count)
                return frame
            case 0xD9:
                return nil
            default:
                break
            }
            index = end
        }
        return nil
    }

    /// SOFn: precision, height, width, then per component its id, sampling
    /// factors (high nibble horizontal) and quantisation table.
    private static func parseFrame(_ body: UnsafeBufferPointer<UInt8>, progressive: Bool) -> JPEGFrameHeader? {
        let b = body.baseAddress.map { UnsafeBufferPointer(start: $0, count: body.count) } ?? body
        guard b.count >= 6 else { return nil }
        let height = Int(b[1]) << 8 | Int(b[2]), width = Int(b[3]) << 8 | Int(b[4]), count = Int(b[5])
        guard width > 0, height > 0, (1...4).contains(count), b.count >= 6 + 3 * count else { return nil }
        var components: [Component] = []
        for i in 0..<count {
            let factors = b[6 + 3 * i + 1]
            let component = Component(horizontal: Int(factors >> 4), vertical: Int(factors & 0x0F))
            guard (1...4).contains(component.horizontal), (1...4).contains(component.vertical) else { return nil }
            components.append(component)
        }
        return JPEGFrameHeader(width: width, height: height, components: components, progressive: progressive, firstScanComponents: count)
    }
}
