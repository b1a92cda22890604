import Common
import Events
import HTTPTypes

/// Where an upload's time went, for the `Server-Timing` response header
/// (W3C Server Timing): `store;dur=3.1, queue;dur=1.2, answer;dur=180.4`,
/// milliseconds: the photo written, its event acknowledged by Kafka, its
/// answer awaited; then the answer's wait split into `extract`, `classify`
/// and `deliver`.
struct ServerTiming {
    private var last = ContinuousClock.now
    private var laps: [(name: String, duration: Duration)] = []

    mutating func lap(_ name: String) {
        let now = ContinuousClock.now
        laps.append((name, now - last))
        last = now
    }

    /// Splits the wait for an answer by the answer's own timestamps: until
    /// the features were extracted, until the answer was made, until it
    /// reached this endpoint (clocks of different machines: approximate).
    mutating func split(_ result: Fruits_V1_ImageResult, ingestedAtMicros: Int64) {
        guard result.extractedAtMicros > 0, result.decidedAtMicros >= result.extractedAtMicros else { return }
        let now = EventIdentity.nowMicros()
        for (name, micros) in [("extract", result.extractedAtMicros - ingestedAtMicros),
                               ("classify", result.decidedAtMicros - result.extractedAtMicros),
                               ("deliver", now - result.decidedAtMicros)] {
            laps.append((name, .microseconds(max(micros, 0))))
        }
    }

    var headers: HTTPFields {
        let value = laps.map { lap in
            let milliseconds = lap.duration.seconds * 1_000
            return "\(lap.name);dur=\((milliseconds * 10).rounded() / 10)"
        }.joined(separator: ", ")
        return [HTTPField.Name("Server-Timing")!: value]
    }
}
