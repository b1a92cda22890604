extension PillowResize {
    /// The resize of the photo as shown, byte for byte `resize(image.shown, ...)`,
    /// without turning the whole photo first: each of Pillow's two passes runs
    /// along the stored axis that the shown axis is, from the end it starts at,
    /// and only the 224x224 result is turned.
    public static func resize(_ image: OrientedImage, width: Int, height: Int) -> RGBImage {
        let stored = image.stored, orientation = image.orientation
        if orientation == .up { return resize(stored, width: width, height: height) }
        if turnsACopy(storedWidth: stored.width, storedHeight: stored.height, orientation: orientation, width: width, height: height) {
            return resize(image.shown, width: width, height: height)
        }
        let shownWidth = orientation.swapsSides ? stored.height : stored.width
        let walk = ImageOrientation.SourceWalk(orientation, width: stored.width, height: stored.height)
        guard orientation.swapsSides else {
            return resize(stored, width: width, height: height, reversingX: walk.stepX < 0, reversingY: walk.stepY < 0)
        }
        // Shown x runs along the stored columns, so Pillow's first pass (along
        // shown x) is a vertical one here, and its second a horizontal one.
        var alongShownX = Coefficients(inputSize: shownWidth, outputSize: width)
        if walk.stepX < 0 { alongShownX = alongShownX.reversed() }
        let first = verticalPass(stored.pixels, width: stored.width, rowOffset: 0, coefficients: alongShownX, outputHeight: width)
        let firstImage = RGBImage(width: stored.width, height: width, pixels: first)
        let second = horizontalPass(firstImage, rows: 0..<width, outputWidth: height, reversed: walk.stepY < 0)
        // Row = shown x, column = shown y: transposed once, at 224x224.
        return ImageOrientation.transposed.apply(to: RGBImage(width: height, height: width, pixels: second))
    }

    /// Whether the resize of a turned photo copies the whole photo turned: only
    /// when a shown side is already at its target, as that axis gets no pass.
    static func turnsACopy(storedWidth: Int, storedHeight: Int, orientation: ImageOrientation, width: Int, height: Int) -> Bool {
        guard orientation != .up else { return false }
        let shownWidth = orientation.swapsSides ? storedHeight : storedWidth
        let shownHeight = orientation.swapsSides ? storedWidth : storedHeight
        return shownWidth == width || shownHeight == height
    }
}
