/// Decoded pixels as the file stores them, and the orientation that shows
/// them the way the camera meant (`.up` when it is ignored or absent).
public struct OrientedImage: Sendable, Equatable {
    public let stored: RGBImage
    public let orientation: ImageOrientation

    public init(stored: RGBImage, orientation: ImageOrientation) {
        self.stored = stored
        self.orientation = orientation
    }

    /// The pixels turned: a copy of the whole image unless it is already upright.
    public var shown: RGBImage { orientation.apply(to: stored) }
}
