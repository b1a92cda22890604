import Events

/// The JSON the app gets for an image (`GET /v1/images/{id}`, and
/// `POST /v1/images?wait=S` once the answer is ready).
struct ImageAnswerBody: Encodable {
    struct Prediction: Encodable {
        struct Scored: Encodable {
            let label: String
            let score: Float
        }
        let label: String
        let score: Float
        let top: [Scored]
    }

    /// A labelled reference near the image (`uri` only when the answerer shares them).
    struct Neighbour: Encodable {
        let imageID: String
        let label: String
        let similarity: Float
        let uri: String?

        enum CodingKeys: String, CodingKey {
            case label, similarity, uri
            case imageID = "image_id"
        }
    }

    let imageID: String
    let status: String
    var label: String?
    var prediction: Prediction?
    var pca: [Float]?
    var modelVersion: Int64?
    var reason: String?
    var note: String?
    var classifier: String?
    var neighbours: [Neighbour]?

    enum CodingKeys: String, CodingKey {
        case status, label, prediction, pca, reason, note, classifier, neighbours
        case imageID = "image_id"
        case modelVersion = "model_version"
    }

    static func pending(_ imageID: String, label: String?) -> ImageAnswerBody {
        ImageAnswerBody(imageID: imageID, status: "pending", label: label.flatMap { $0.isEmpty ? nil : $0 })
    }

    init(imageID: String, status: String, label: String? = nil) {
        self.imageID = imageID
        self.status = status
        self.label = label
    }

    init(_ result: Fruits_V1_ImageResult) {
        let failed = result.status == .failed
        self.init(imageID: result.imageID, status: failed ? "failed" : "done", label: result.label.isEmpty ? nil : result.label)
        if failed {
            reason = result.reason
            return
        }
        modelVersion = result.modelVersion
        if let best = result.top.first {
            prediction = Prediction(label: best.label, score: best.score,
                                    top: result.top.map { Prediction.Scored(label: $0.label, score: $0.score) })
            pca = result.pca
            classifier = result.classifier.isEmpty ? nil : result.classifier
            neighbours = result.neighbours.map {
                Neighbour(imageID: $0.imageID, label: $0.label, similarity: min(max($0.similarity, -1), 1), uri: $0.uri.isEmpty ? nil : $0.uri)
            }
        } else if result.modelVersion == 0 {
            note = "features extracted; no model has been published yet, so there is no prediction"
        } else {
            pca = result.pca
            note = "the model has no labelled references yet, so there is no prediction"
        }
    }
}
