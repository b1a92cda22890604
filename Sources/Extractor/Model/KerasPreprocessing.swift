/// `tf.keras.applications.mobilenet_v2.preprocess_input`: `x / 127.5 - 1` in
/// float32. Only 256 inputs exist, so it is a table.
enum KerasPreprocessing {
    static let table: [Float] = (0..<256).map { Float($0) / 127.5 - 1 }

    /// Writes a 224x224 RGB image as NHWC floats at `destination`.
    static func write(_ image: RGBImage, to destination: UnsafeMutablePointer<Float>) {
        table.withUnsafeBufferPointer { table in
            image.pixels.withUnsafeBufferPointer { pixels in
                for i in 0..<pixels.count { destination[i] = table[Int(pixels[i])] }
            }
        }
    }
}
