import Foundation
import TestSupport
import Testing

@testable import Extractor

/// The reduced decode and EXIF orientation against Pillow's output
/// (`tools/make_decode_fixtures.py`): `draft` + `resize`, and `exif_transpose`.
@Suite("Decode options match Pillow's draft and exif_transpose")
struct DecodeOptionsTests {
    struct Manifest: Decodable {
        struct Oriented: Decodable, Sendable { let orientation: Int, width: Int, height: Int }
        struct Reduced: Decodable, Sendable { let side: Int, decoded_width: Int, decoded_height: Int }
        let orientation: [Oriented]
        let reduced: [Reduced]
    }

    static let manifest: Manifest = {
        let data = try! Data(contentsOf: Fixtures.directory.appendingPathComponent("decode.json"))
        return try! JSONDecoder().decode(Manifest.self, from: data)
    }()

    @Test func everyEXIFOrientationIsShownAsPillowShowsIt() throws {
        try #require(Self.manifest.orientation.map(\.orientation) == Array(1...8))
        let stored = try Fixtures.bytes("orientation/oriented_1.rgb")
        for fixture in Self.manifest.orientation {
            let jpeg = try Fixtures.bytes("orientation/oriented_\(fixture.orientation).jpg")
            let shown = try JPEGDecoder().decode(jpeg, options: DecodeOptions(orientation: .exif))
            #expect(shown.width == fixture.width && shown.height == fixture.height, "orientation \(fixture.orientation)")
            #expect(shown.pixels == (try Fixtures.bytes("orientation/oriented_\(fixture.orientation).rgb")),
                    "orientation \(fixture.orientation)")
            // The seed's behaviour: the tag is ignored, the pixels are as stored.
            #expect(try JPEGDecoder().decode(jpeg).pixels == stored, "orientation \(fixture.orientation), stored")
        }
    }

    @Test func theEightOrientationsAreEightDifferentImages() throws {
        let shown = try Self.manifest.orientation.map { try Fixtures.bytes("orientation/oriented_\($0.orientation).rgb") }
        #expect(Set(shown).count == 8)
    }

    /// The affine walk against the pixel-by-pixel definition, on odd shapes and
    /// on single rows and columns.
    @Test(arguments: [(130, 70), (64, 129), (1, 5), (5, 1), (1, 1)])
    func theTranspositionMovesEveryPixelWhereTheDefinitionSays(width: Int, height: Int) {
        let image = RGBImage(width: width, height: height, pixels: (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) })
        for orientation in ImageOrientation.allCases {
            let shown = orientation.apply(to: image)
            var expected = [UInt8]()
            for y in 0..<shown.height {
                for x in 0..<shown.width {
                    let s = orientation.source(x: x, y: y, width: width, height: height)
                    expected += image.pixels[(3 * (s.y * width + s.x))..<(3 * (s.y * width + s.x) + 3)]
                }
            }
            #expect(shown.pixels == expected, "\(orientation) on \(width)x\(height)")
        }
    }

    @Test(arguments: manifest.reduced.map { $0.side })
    func aReducedDecodeThenResizeEqualsPillowsDraft(side: Int) throws {
        let fixture = try #require(Self.manifest.reduced.first { $0.side == side })
        let jpeg = try Fixtures.bytes("photo_1600x1200.jpg")
        let decoded = try JPEGDecoder().decode(jpeg, options: DecodeOptions(scale: .reduced, reducedMinimumSide: side))
        #expect(decoded.width == fixture.decoded_width && decoded.height == fixture.decoded_height)
        if FileManager.default.fileExists(atPath: Fixtures.directory.appendingPathComponent("reduced/photo_\(side).decoded.rgb").path) {
            #expect(decoded.pixels == (try Fixtures.bytes("reduced/photo_\(side).decoded.rgb")))
        }
        let resized = PillowResize.resize(decoded, width: 224, height: 224)
        #expect(resized.pixels == (try Fixtures.bytes("reduced/photo_\(side).rgb")))
    }

    @Test func aPhotoTooSmallToReduceDecodesExactly() throws {
        let jpeg = try Fixtures.bytes("odd_301x199.jpg")
        #expect(try JPEGDecoder().decode(jpeg, options: .upload) == JPEGDecoder().decode(jpeg))
    }

    @Test(arguments: [
        (4032, 3024, 448, 4), (3024, 4032, 448, 4), (4000, 3000, 448, 4), (8000, 6000, 448, 8),
        (1600, 1200, 448, 2), (895, 2000, 448, 1), (896, 896, 448, 2), (447, 447, 448, 1), (4032, 3024, 224, 8),
        (4032, 3024, 896, 2), (3024, 4032, 896, 2), (8000, 6000, 896, 4), (1792, 1792, 896, 2), (1791, 4000, 896, 1),
    ])
    func theReductionKeepsBothSidesAboveTheMinimum(width: Int, height: Int, side: Int, expected: Int) {
        let denominator = JPEGReduction.denominator(width: width, height: height, minimumSide: side)
        #expect(denominator == expected)
        if denominator > 1 {
            #expect(min(JPEGReduction.scaled(width, by: denominator), JPEGReduction.scaled(height, by: denominator)) >= side)
        }
    }

    @Test func uploadsOfTwelveMegapixelsAreDecodedAtAQuarter() {
        #expect(DecodeOptions.upload.scale == .reduced)
        for (width, height) in [(4032, 3024), (3024, 4032), (4000, 3000)] {
            #expect(JPEGReduction.denominator(width: width, height: height, minimumSide: DecodeOptions.upload.reducedMinimumSide) == 4)
        }
    }

    /// The model's input of a tagged photo is the resize of what Pillow shows,
    /// through the extractor's own path (decoded as stored, resized along the
    /// shown axes), for every tag value.
    @Test(.tags(.integration)) func theModelSeesEachPhotoTheWayPillowShowsIt() throws {
        let extractor = try FeatureExtractor(weights: Fixtures.weights.get())
        for fixture in Self.manifest.orientation {
            let jpeg = try Fixtures.bytes("orientation/oriented_\(fixture.orientation).jpg")
            let shown = RGBImage(width: fixture.width, height: fixture.height,
                                 pixels: try Fixtures.bytes("orientation/oriented_\(fixture.orientation).rgb"))
            let input = try extractor.prepare(jpeg: jpeg, decoding: DecodeOptions(orientation: .exif))
            #expect(input == PillowResize.resize(shown, width: 224, height: 224), "orientation \(fixture.orientation)")
            if fixture.orientation != 1 {
                #expect(input != (try extractor.prepare(jpeg: jpeg, decoding: .seed)), "orientation \(fixture.orientation), stored")
            }
        }
    }

    @Test(.tags(.integration)) func reducedFeaturesStayCloseToExactOnes() throws {
        let extractor = try FeatureExtractor(weights: Fixtures.weights.get())
        let jpeg = try Fixtures.bytes("photo_1600x1200.jpg")
        let exact = try extractor.features(ofJPEGs: [jpeg])[0].get()
        let reduced = try extractor.features(ofJPEGs: [jpeg], decoding: .upload)[0].get()
        #expect(exact != reduced, "the reduced decode must actually run")
        #expect(FeatureGoldenTests.cosine(exact, reduced) >= 0.999)
    }
}
