import CTurboJPEG

/// Decodes JPEG bytes to RGB with libjpeg-turbo, producing the same bytes as
/// Pillow's `Image.open(...).convert("RGB")`: accurate integer DCT and smooth
/// (fancy) upsampling, i.e. no TurboJPEG speed flags. A reduced decode
/// (`DecodeOptions.Scale.reduced`) equals Pillow's `draft("RGB", (side, side))`
/// before the conversion, and `.exif` orientation its `ImageOps.exif_transpose`.
///
/// Not thread-safe: one decoder per worker. Limits are checked from the
/// header, before any pixel buffer is allocated.
public final class JPEGDecoder {
    public struct Limits: Sendable {
        /// Largest accepted width * height. 50 MP covers phone cameras while
        /// bounding the decode buffer to 150 MB.
        public var maxPixels: Int
        /// Smallest accepted side; a handful of pixels carries no fruit.
        public var minimumSide: Int
        /// Largest scans x pixels of a progressive JPEG (each scan re-decodes
        /// the image): 10^9 is a few seconds here, 20 scans of a 50 MP photo;
        /// ordinary progressive photos have about 10 scans.
        public var maxScanPixels: Int

        public init(maxPixels: Int = 50_000_000, minimumSide: Int = 8, maxScanPixels: Int = 1_000_000_000) {
            self.maxPixels = maxPixels
            self.minimumSide = minimumSide
            self.maxScanPixels = maxScanPixels
        }
    }

    public let limits: Limits
    private var handle: tjhandle

    public init(limits: Limits = Limits()) {
        self.handle = Self.makeHandle()
        self.limits = limits
    }

    private static func makeHandle() -> tjhandle {
        guard let handle = tjInitDecompress() else { fatalError("tjInitDecompress failed: out of memory") }
        return handle
    }

    /// A TurboJPEG handle can keep state from a failed decode (tables of a
    /// broken header) that poisons the next image, so it is replaced.
    private func resetAfterFailure() {
        tjDestroy(handle)
        handle = Self.makeHandle()
    }

    deinit { tjDestroy(handle) }

    /// The image as shown: with `.exif` orientation, turned the way its tag says.
    public func decode(_ bytes: [UInt8], options: DecodeOptions = .seed) throws(ImageError) -> RGBImage {
        try decodeStored(bytes, options: options).shown
    }

    /// The pixels as stored and how to show them, so that a resize can turn the
    /// small result instead of the whole photo (`PillowResize.resize(_:width:height:)`).
    public func decodeStored(_ bytes: [UInt8], options: DecodeOptions = .seed) throws(ImageError) -> OrientedImage {
        let result: Result<OrientedImage, ImageError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(ImageError) in try decodeStored(buffer, options: options) }
        }
        return try result.get()
    }

    public func decodeStored(_ buffer: UnsafeRawBufferPointer, options: DecodeOptions = .seed) throws(ImageError) -> OrientedImage {
        guard !buffer.isEmpty else { throw .empty }
        guard FileSignature.isJPEG(buffer) else { throw .unsupportedFormat(FileSignature.describe(buffer)) }
        let jpeg = buffer.bindMemory(to: UInt8.self)

        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        if tjDecompressHeader3(handle, jpeg.baseAddress, UInt(jpeg.count), &width, &height, &subsampling, &colorspace) != 0 {
            throw failure(message: lastError(), jpeg: jpeg)
        }
        let w = Int(width), h = Int(height)
        // Data that ends before the frame header can still "parse" as 0x0.
        guard w > 0, h > 0 else { throw failure(message: "no frame header", jpeg: jpeg) }
        guard w * h <= limits.maxPixels else { throw .tooLarge(width: w, height: h, limitPixels: limits.maxPixels) }
        guard min(w, h) >= limits.minimumSide else { throw .tooSmall(width: w, height: h, minimumSide: limits.minimumSide) }
        let scans = JPEGScans.starts(jpeg).count
        guard scans * w * h <= limits.maxScanPixels else {
            throw .tooManyScans("\(scans) scans of a \(w)x\(h) image, above the budget of \(limits.maxScanPixels) scan-pixels")
        }

        // The reduction happens inside libjpeg's inverse DCT: only the reduced
        // image is ever allocated (1/64 of the pixels at 1/8).
        let denominator = options.scale == .reduced
            ? JPEGReduction.denominator(width: w, height: h, minimumSide: options.reducedMinimumSide) : 1
        let sw = JPEGReduction.scaled(w, by: denominator), sh = JPEGReduction.scaled(h, by: denominator)
        let image: RGBImage
        switch Int(colorspace) {
        case Int(TJCS_CMYK.rawValue), Int(TJCS_YCCK.rawValue):
            let cmyk = try decompress(jpeg, width: sw, height: sh, format: TJPF_CMYK, channels: 4)
            image = RGBImage(width: sw, height: sh, pixels: Self.adobeCMYKToRGB(cmyk))
        case Int(TJCS_RGB.rawValue), Int(TJCS_YCbCr.rawValue), Int(TJCS_GRAY.rawValue):
            image = RGBImage(width: sw, height: sh, pixels: try decompress(jpeg, width: sw, height: sh, format: TJPF_RGB, channels: 3))
        default:
            throw .unsupportedColorspace("code \(colorspace)")
        }
        let orientation = options.orientation == .exif ? EXIFOrientationReader.orientation(in: jpeg) : nil
        return OrientedImage(stored: image, orientation: orientation ?? .up)
    }

    private func decompress(
        _ jpeg: UnsafeBufferPointer<UInt8>, width: Int, height: Int, format: TJPF, channels: Int
    ) throws(ImageError) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let status = pixels.withUnsafeMutableBufferPointer { out in
            // TJFLAG_LIMITSCANS bounds the time of a crafted progressive file
            // (each scan re-decodes the whole image); it changes no pixel of a
            // file with fewer than 500 scans, so Pillow's output is kept.
            tjDecompress2(handle, jpeg.baseAddress, UInt(jpeg.count), out.baseAddress,
                          Int32(width), Int32(width * channels), Int32(height), format.rawValue, TJFLAG_LIMITSCANS)
        }
        if status != 0 {
            // Without TJFLAG_STOPONWARNING a warning still returns -1: libjpeg
            // recovered, and like Pillow we accept the image unless data ran out.
            let fatal = tjGetErrorCode(handle) == TJERR_FATAL.rawValue
            let message = lastError()
            if message.contains("scans") {
                resetAfterFailure()
                throw .tooManyScans(message)
            }
            if fatal || message.contains("Premature end") {
                throw failure(message: message, jpeg: jpeg)
            }
        }
        return pixels
    }

    private func lastError() -> String {
        guard let message = tjGetErrorStr2(handle) else { return "unknown libjpeg error" }
        return String(cString: message)
    }

    /// A JPEG that fails and lacks its end-of-image marker was cut short;
    /// anything else that fails is corrupt.
    private func failure(message: String, jpeg: UnsafeBufferPointer<UInt8>) -> ImageError {
        resetAfterFailure()
        let endsWithEOI = jpeg.count >= 2 && jpeg[jpeg.count - 2] == 0xFF && jpeg[jpeg.count - 1] == 0xD9
        if !endsWithEOI || message.contains("Premature end") {
            return .truncated(message)
        }
        return .corrupt(message)
    }

    /// Pillow reads CMYK JPEGs as Adobe-inverted ("CMYK;I") and converts with
    /// `out = (255 - k) - (c * (255 - k)) / 255` in 8-bit fixed point; here
    /// `raw` is libjpeg's output, i.e. the inverted values.
    static func adobeCMYKToRGB(_ raw: [UInt8]) -> [UInt8] {
        let count = raw.count / 4
        var rgb = [UInt8](repeating: 0, count: count * 3)
        for i in 0..<count {
            let nk = Int(raw[4 * i + 3])
            for c in 0..<3 {
                let ink = 255 - Int(raw[4 * i + c])
                let t = ink * nk + 128
                let scaled = ((t >> 8) + t) >> 8
                rgb[3 * i + c] = UInt8(clamping: nk - scaled)
            }
        }
        return rgb
    }
}
