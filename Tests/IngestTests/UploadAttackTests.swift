import Events
import Foundation
import Hummingbird
import HummingbirdTesting
import Ingest
import ObjectStorage
import TestSupport
import Testing

/// What a hostile client with the app's token tries (issue 24), against the
/// endpoint's defaults: every attempt is refused with a JSON error naming
/// what was wrong, and the endpoint stays up for everybody else.
@Suite("Upload endpoint under attack", .tags(.integration))
struct UploadAttackTests {
    struct Refusal: Decodable {
        let error: String
        let parameter: String?
    }

    static func refusal(_ response: TestResponse) throws -> Refusal {
        try JSONDecoder().decode(Refusal.self, from: Data(buffer: response.body))
    }

    /// `1e300` once passed the finite check and trapped converting to
    /// milliseconds, killing the process with every upload in flight.
    @Test(arguments: ["1e300", "1e16", "nan", "inf", "-1", "abc", "", "11", "10.0001", "0x10", "+1", "1e2", " 1", "1.", ".5", "1e", "1e+"])
    func aWaitOutOfRangeOrGrammarIsA400NamingIt(wait: String) async throws {
        let harness = try UploadServerTests.Harness()
        let query = "?wait=" + (wait.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? wait)
        let response = try await harness.upload(query)
        #expect(response.status == .badRequest, "wait=\(wait)")
        #expect(try Self.refusal(response).parameter == "wait")
        #expect(try await harness.upload("?wait=0.5").status == .accepted, "the endpoint is still up")
    }

    /// What generated clients send for a number in range is accepted.
    @Test func aWaitAsJSONWritesNumbersIsAccepted() async throws {
        let harness = try UploadServerTests.Harness()
        for wait in ["0", "10", "1e1", "1e-05", "0.30000000000000004", "5e-324", "2E0"] {
            #expect(try await harness.upload("?wait=" + wait.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!).status == .accepted,
                    "wait=\(wait)")
        }
    }

    @Test func anUnknownParameterIsA400NamingIt() async throws {
        let harness = try UploadServerTests.Harness()
        let response = try await harness.upload("?wiat=5")
        let refusal = try Self.refusal(response)
        #expect(response.status == .badRequest && refusal.parameter == "wiat")
    }

    @Test func aParameterGivenTwiceIsA400() async throws {
        let harness = try UploadServerTests.Harness()
        let response = try await harness.upload("?wait=1&wait=2")
        let refusal = try Self.refusal(response)
        #expect(response.status == .badRequest && refusal.parameter == "wait")
    }

    /// Labels are shown to every user: what could make one look like another
    /// or break out of markup is refused; the rest is stored in NFC.
    @Test(arguments: ["x\u{202E}gpj", "a\u{200B}b", "\u{200B}", "\u{85}", "tab\there", "new\nline", "a/b", String(repeating: "k", count: 101)])
    func aLabelWithForbiddenCharactersOrTooLongIsA400(label: String) async throws {
        let harness = try UploadServerTests.Harness()
        let response = try await harness.upload("?label=" + label.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        #expect(response.status == .badRequest)
        #expect(try Self.refusal(response).parameter == "label")
    }

    @Test func labelsAreStoredInTheirOneSpelling() async throws {
        let harness = try UploadServerTests.Harness()
        let decomposed = "Pitahaya Re\u{0301}d"  // e + combining acute
        let response = try await harness.upload("?label=" + decomposed.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        #expect(response.status == .accepted)
        let events = try await harness.events()
        #expect(events.map(\.label) == ["Pitahaya R\u{00E9}d"])
        #expect(events.first?.label.unicodeScalars.count == "Pitahaya Réd".precomposedStringWithCanonicalMapping.unicodeScalars.count)
    }

    @Test(arguments: ["nothex", "ABCDEF0123456789ABCDEF0123456789", "0123456789abcdef0123456789abcde", "../../etc/passwd"])
    func aMalformedImageIdIsA400(id: String) async throws {
        let harness = try UploadServerTests.Harness()
        try await harness.test { client in
            try await client.execute(uri: "/v1/images/\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", method: .get,
                                     headers: UploadServerTests.authorized) { response in
                let refusal = try? Self.refusal(response)
                #expect(response.status == .badRequest && refusal?.parameter == "id")
            }
        }
    }

    /// A body at 500 B/s is cut once its grace is over (it would once have
    /// been kept for ever); 13 uploads declaring 20 MiB and sending little
    /// no longer reserve the budget; an upload without a token is refused on
    /// its head and its connection closed, its body never read.
    @Test(.timeLimit(.minutes(2)))
    func slowSendersBudgetHogsAndUnauthenticatedBodiesLoseTheirHold() async throws {
        let defaults = UploadServer.Configuration(token: "")
        let harness = try UploadServerTests.Harness(maxBodyBytes: defaults.maxBodyBytes, maxBufferedBytes: defaults.maxBufferedBytes)
        try await harness.server.makeApplication(port: 0).test(.live) { client in
            let port = try #require(client.port)
            let run = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/hostile_uploads.py").path,
                                                         "--port", "\(port)", "--token", UploadServerTests.token], timeout: .seconds(100))
            try #require(run.status == 0, "\(run.output)")
            let line = run.output.split(separator: "\n").last { $0.hasPrefix("{") } ?? ""
            let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(run.output)")
            print("hostile uploads: \(result)")
            let grace = Double(defaults.bodyTimeout.components.seconds)
            #expect((result["slow_closed_after"] as? Double ?? 99) <= grace + 5, "\(result)")
            #expect(result["honest_status_beside_hogs"] as? Int == 202, "\(result)")
            #expect(result["unauthenticated_status"] as? Int == 401, "\(result)")
            #expect(result["unauthenticated_says_close"] as? Bool == true && result["unauthenticated_closed"] as? Bool == true, "\(result)")
        }
        #expect(harness.server.bufferedBytesForTests == 0, "every exit path gave its budget back")
    }
}

@Suite("Recent answers: uploads kept apart")
struct RecentUploadAnswersTests {
    static func result(_ index: Int, source: Fruits_V1_Source) -> Fruits_V1_ImageResult {
        var result = Fruits_V1_ImageResult()
        result.imageID = String(format: "%032x", index)
        result.status = .done
        result.source = source
        return result
    }

    /// An upload's answer stays while a backfill answers 100,000 images
    /// (one shared first-in first-out view once forgot it within seconds).
    @Test func aBackfillCannotPushAnUploadsAnswerOut() {
        let recent = RecentResults()
        let upload = Self.result(7, source: .upload)
        recent.record(upload)
        let mine = String(format: "%032x", 8)
        recent.accepted(mine, label: "")  // accepted here, answered later
        for index in 1_000..<101_000 { recent.record(Self.result(index, source: .backfill)) }
        recent.record(Self.result(8, source: .unspecified))
        guard case .result(let kept) = recent[upload.imageID] else { Issue.record("the upload's answer was forgotten"); return }
        #expect(kept.imageID == upload.imageID)
        guard case .result = recent[mine] else { Issue.record("this replica's upload was forgotten"); return }
        #expect(recent.count <= recent.capacity + recent.otherCapacity)
        #expect(recent[String(format: "%032x", 1_000)] == nil, "the oldest backfill answers are the ones forgotten")
    }
}
