/// The eight EXIF orientations (tag 0x0112) and the transposition that shows
/// the stored pixels the way the camera meant them, as Pillow's
/// `ImageOps.exif_transpose` does.
public enum ImageOrientation: Int, Sendable, CaseIterable {
    case up = 1
    case mirrored = 2
    case upsideDown = 3
    case flipped = 4
    case transposed = 5
    case rotatedLeft = 6
    case transversed = 7
    case rotatedRight = 8

    /// Orientations 5 to 8 swap width and height.
    var swapsSides: Bool { rawValue >= 5 }

    /// The stored pixel shown at output (x, y), for an image stored as width x height.
    @inline(__always)
    func source(x: Int, y: Int, width: Int, height: Int) -> (x: Int, y: Int) {
        switch self {
        case .up: (x, y)
        case .mirrored: (width - 1 - x, y)
        case .upsideDown: (width - 1 - x, height - 1 - y)
        case .flipped: (x, height - 1 - y)
        case .transposed: (y, x)
        case .rotatedLeft: (y, height - 1 - x)
        case .transversed: (width - 1 - y, height - 1 - x)
        case .rotatedRight: (width - 1 - y, x)
        }
    }

    /// The image as it should be shown.
    public func apply(to image: RGBImage) -> RGBImage {
        if self == .up { return image }
        let outWidth = swapsSides ? image.height : image.width
        let outHeight = swapsSides ? image.width : image.height
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var o = 0
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let s = source(x: x, y: y, width: image.width, height: image.height)
                        let i = 3 * (s.y * image.width + s.x)
                        dst[o] = src[i]
                        dst[o + 1] = src[i + 1]
                        dst[o + 2] = src[i + 2]
                        o += 3
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: out)
    }
}
