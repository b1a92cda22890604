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

    /// Whether the shown x axis runs backwards along its stored axis.
    var reversesShownX: Bool { SourceWalk(self, width: 2, height: 2).stepX < 0 }
    /// Whether the shown y axis runs backwards along its stored axis.
    var reversesShownY: Bool { SourceWalk(self, width: 2, height: 2).stepY < 0 }

    /// The orientation that only mirrors the given axes.
    static func mirroring(x: Bool, y: Bool) -> ImageOrientation {
        switch (x, y) {
        case (false, false): .up
        case (true, false): .mirrored
        case (false, true): .flipped
        case (true, true): .upsideDown
        }
    }

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

    /// The image as it should be shown. The extractor turns only 224x224
    /// results (`PillowResize.resize(_:width:height:)` with an `OrientedImage`).
    public func apply(to image: RGBImage) -> RGBImage {
        if self == .up { return image }
        let outWidth = swapsSides ? image.height : image.width
        let outHeight = swapsSides ? image.width : image.height
        let walk = SourceWalk(self, width: image.width, height: image.height)
        let pixels = [UInt8](unsafeUninitializedCapacity: image.pixels.count) { out, initialized in
            image.pixels.withUnsafeBufferPointer { src in
                let source = src.baseAddress!, destination = out.baseAddress!
                var o = 0
                for y in 0..<outHeight {
                    var i = 3 * (walk.origin + y * walk.stepY)
                    for _ in 0..<outWidth {
                        destination[o] = source[i]
                        destination[o + 1] = source[i + 1]
                        destination[o + 2] = source[i + 2]
                        o += 3
                        i += 3 * walk.stepX
                    }
                }
            }
            initialized = image.pixels.count
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
    }

    /// `source(x:y:)` is affine: the stored pixel index of output (x, y) is
    /// origin + x * stepX + y * stepY.
    struct SourceWalk {
        let origin: Int, stepX: Int, stepY: Int

        init(_ orientation: ImageOrientation, width: Int, height: Int) {
            let at = { (p: (x: Int, y: Int)) in p.y * width + p.x }
            origin = at(orientation.source(x: 0, y: 0, width: width, height: height))
            stepX = at(orientation.source(x: 1, y: 0, width: width, height: height)) - origin
            stepY = at(orientation.source(x: 0, y: 1, width: width, height: height)) - origin
        }
    }
}
