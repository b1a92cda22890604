/// The DCT-domain reduction of a reduced decode.
///
/// Only 1/2, 1/4 and 1/8: the factors Pillow's `draft` uses (so its output is
/// the oracle) and the ones libjpeg-turbo computes with SIMD inverse DCTs;
/// its other factors (3/8, 5/8, ...) run scalar C.
enum JPEGReduction {
    static let denominators = [8, 4, 2]

    /// The largest denominator that keeps both sides at least `minimumSide`,
    /// 1 when none does. Pillow's draft rule: min(w / side, h / side), floored,
    /// rounded down to a power of two.
    static func denominator(width: Int, height: Int, minimumSide: Int) -> Int {
        precondition(width > 0 && height > 0 && minimumSide > 0)
        let fits = min(width / minimumSide, height / minimumSide)
        return denominators.first { $0 <= fits } ?? 1
    }

    /// libjpeg's scaled size: the side divided by the denominator, rounded up.
    static func scaled(_ side: Int, by denominator: Int) -> Int {
        (side + denominator - 1) / denominator
    }
}
