extension PillowResize {
    /// The resize of the photo as shown, byte for byte `resize(image.shown, ...)`,
    /// without turning the whole photo: each of Pillow's passes runs along the
    /// stored axis that the shown axis is, from the end the shown axis starts
    /// at, and only the result is turned. An axis already at its size gets no
    /// pass (as in Pillow); its lines are only reordered, which the other pass
    /// does not mind, so that mirror is applied to the result too.
    public static func resize(_ image: OrientedImage, width: Int, height: Int) -> RGBImage {
        let stored = image.stored, orientation = image.orientation
        if orientation == .up { return resize(stored, width: width, height: height) }
        let shownWidth = orientation.swapsSides ? stored.height : stored.width
        let shownHeight = orientation.swapsSides ? stored.width : stored.height
        let passX = shownWidth != width, passY = shownHeight != height
        let reverseX = orientation.reversesShownX && passX, reverseY = orientation.reversesShownY && passY
        let leftover = ImageOrientation.mirroring(x: orientation.reversesShownX && !passX, y: orientation.reversesShownY && !passY)
        guard orientation.swapsSides else {
            return leftover.apply(to: resize(stored, width: width, height: height, reversingX: reverseX, reversingY: reverseY))
        }
        // Shown x runs along the stored columns, so Pillow's first pass (along
        // shown x) is a vertical one here, and its second a horizontal one;
        // their result has a row per shown column and is transposed at the end.
        var first = stored
        if passX {
            var alongShownX = Coefficients(inputSize: shownWidth, outputSize: width)
            if reverseX { alongShownX = alongShownX.reversed() }
            let pixels = verticalPass(stored.pixels, width: stored.width, rowOffset: 0, coefficients: alongShownX, outputHeight: width)
            first = RGBImage(width: stored.width, height: width, pixels: pixels)
        }
        var second = first
        if passY {
            let pixels = horizontalPass(first, rows: 0..<first.height, outputWidth: height, reversed: reverseY)
            second = RGBImage(width: height, height: first.height, pixels: pixels)
        }
        return leftover.apply(to: ImageOrientation.transposed.apply(to: second))
    }
}
