import CTurboJPEG

/// libjpeg-turbo's own decode at the scale `JPEGDecoder` would choose, with
/// nothing of ours around it (no limits, scan count, EXIF, orientation): the
/// floor `fruits bench extract` compares the decoder with.
package final class TurboJPEGReference {
    private let handle: tjhandle

    package init() {
        guard let handle = tjInitDecompress() else { fatalError("tjInitDecompress failed: out of memory") }
        self.handle = handle
    }

    deinit { tjDestroy(handle) }

    /// Decodes to RGB; false if libjpeg-turbo refused the file.
    package func decode(_ jpeg: [UInt8], options: DecodeOptions) -> Bool {
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        guard tjDecompressHeader3(handle, jpeg, UInt(jpeg.count), &width, &height, &subsampling, &colorspace) == 0,
              width > 0, height > 0 else { return false }
        let w = Int(width), h = Int(height)
        let denominator = options.scale == .reduced
            ? JPEGReduction.denominator(width: w, height: h, minimumSide: options.reducedMinimumSide) : 1
        let sw = JPEGReduction.scaled(w, by: denominator), sh = JPEGReduction.scaled(h, by: denominator)
        var pixels = [UInt8](repeating: 0, count: sw * sh * 3)
        return pixels.withUnsafeMutableBufferPointer { out in
            tjDecompress2(handle, jpeg, UInt(jpeg.count), out.baseAddress, Int32(sw), Int32(sw * 3), Int32(sh),
                          TJPF_RGB.rawValue, TJFLAG_LIMITSCANS) == 0
        }
    }
}
