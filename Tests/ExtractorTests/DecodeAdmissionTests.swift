import Common
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Extractor

@Suite("Decode admission: decodes within the memory budget")
struct DecodeAdmissionTests {
    /// Polls `condition` from a test thread, at most 10 s.
    static func waitUntil(_ what: String, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(10)
        while !condition() {
            guard Date() < deadline else { throw WaitFailed(what: what) }
            usleep(1000)
        }
    }

    struct WaitFailed: Error, CustomStringConvertible {
        let what: String
        var description: String { "timed out after 10 s waiting until \(what)" }
    }

    /// Eight threads reserve random amounts; what they hold together, by
    /// their own count, never passes the capacity, and every one gets through.
    @Test func concurrentDecodesNeverExceedTheBudget() throws {
        let admission = DecodeAdmission(capacity: 100, maxWait: .seconds(10))
        let held = Atomic<Int>(0), mostHeld = Atomic<Int>(0), done = Atomic<Int>(0)
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        for seed in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var random = SplitMix64(seed: UInt64(seed))
                for _ in 0..<200 {
                    do {
                        let reservation = try admission.reserve(bytes: Int.random(in: 1...100, using: &random))
                        let now = held.add(reservation.bytes, ordering: .sequentiallyConsistent).newValue
                        mostHeld.max(now, ordering: .sequentiallyConsistent)
                        usleep(20)  // a decode takes a while: the others pile up meanwhile
                        held.subtract(reservation.bytes, ordering: .sequentiallyConsistent)
                        reservation.release()
                        done.add(1, ordering: .relaxed)
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        #expect(group.wait(timeout: .now() + 60) == .success, "the threads did not finish within 60 s")
        #expect(failures.withLock { $0 }.isEmpty)
        #expect(done.load(ordering: .relaxed) == 8 * 200)
        #expect(mostHeld.load(ordering: .relaxed) <= 100)
        #expect(admission.usage.peak <= 100 && admission.usage.inUse == 0)
    }

    /// A decode that does not fit waits for the one in progress, then runs.
    @Test func aDecodeWaitsForRoomThenRuns() throws {
        let admission = DecodeAdmission(capacity: 100, maxWait: .seconds(10))
        let first = try admission.reserve(bytes: 80)
        let granted = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            if let second = try? admission.reserve(bytes: 50) {
                granted.signal()
                second.release()
            }
        }
        try Self.waitUntil("the second decode waits") { admission.waiting == 1 }
        #expect(admission.usage.inUse == 80)
        first.release()
        #expect(granted.wait(timeout: .now() + 10) == .success, "the waiting decode was not admitted within 10 s of the release")
    }

    /// A later small decode (it would fit beside the first) does not overtake an earlier large one.
    @Test func waitersAreServedInOrder() throws {
        let admission = DecodeAdmission(capacity: 100, maxWait: .seconds(10))
        let first = try admission.reserve(bytes: 60)
        let order = Mutex<[Int]>([])
        let finished = DispatchGroup()
        for (index, bytes) in [(1, 90), (2, 20)] {
            try Self.waitUntil("\(index - 1) decodes wait") { admission.waiting == index - 1 }
            finished.enter()
            Thread.detachNewThread {
                if let reservation = try? admission.reserve(bytes: bytes) {
                    order.withLock { $0.append(index) }
                    reservation.release()
                }
                finished.leave()
            }
        }
        try Self.waitUntil("both decodes wait") { admission.waiting == 2 }
        first.release()
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(order.withLock { $0 } == [1, 2])
    }

    @Test func aWaitIsBoundedAndSaysSo() throws {
        let admission = DecodeAdmission(capacity: 100, maxWait: .milliseconds(50))
        let holder = try admission.reserve(bytes: 100)
        #expect(throws: DecodeAdmission.TimedOut.self) { try admission.reserve(bytes: 1) }
        #expect(admission.waiting == 0)
        holder.release()
        #expect(try admission.reserve(bytes: 100).bytes == 100)
    }

    /// A decode larger than the whole budget is refused at once, with its numbers.
    @Test func aDecodeThatCanNeverFitIsRefusedAtOnce() throws {
        let admission = DecodeAdmission(capacity: 500_000_000, maxWait: .seconds(600))
        let jpeg = DecodeCostTests.header(width: 8660, height: 5773, sampling: DecodeCostTests.cmyk, progressive: true)
        let cost = try #require(DecodeCost.of(jpeg, options: .seed))
        let started = ContinuousClock.now
        let error = try #require(throws: DecodeAdmission.NeverFits.self) { try admission.reserve(cost) }
        #expect(ContinuousClock.now - started < .seconds(1))
        #expect(error.description.contains("8660x5773 progressive") && error.description.contains("500 MB"), "\(error)")
        #expect(admission.usage.inUse == 0)
    }

    /// Through the pool: the photo that cannot fit is refused with its reason,
    /// its batch-mates get their features.
    @Test func thePoolRefusesWhatCannotFitAndExtractsTheRest() async throws {
        var configuration = InferencePool.Configuration(workers: 1)
        configuration.decodeMemory = 4_000_000  // the 1600x1200 photo needs ~7 MB decoded exactly
        let pool = try InferencePool(weightsPath: Fixtures.weightsPath, configuration: configuration)
        let small = try Fixtures.bytes("fruit_100_a.jpg"), large = try Fixtures.bytes("photo_1600x1200.jpg")
        let results = try await pool.features(ofJPEGs: [small, large, small], decoding: .seed)
        #expect(results.count == 3)
        #expect((try? results[0].get())?.count == 1280 && (try? results[2].get())?.count == 1280)
        guard case .failure(let error) = results[1] else { Issue.record("the large photo was decoded"); return }
        #expect(error.reason == "exceeds_decode_memory" && error.description.contains("1600x1200"), "\(error)")
        // Its reduced decode (1/2: 800x600) fits the same budget.
        let reduced = try await pool.features(ofJPEGs: [large], decoding: DecodeOptions(scale: .reduced))
        #expect((try? reduced[0].get())?.count == 1280)
        #expect(pool.decodeAdmission?.usage.peak ?? .max <= 4_000_000)
    }
}

@Suite("Fetch budget: fetched photos within their memory budget")
struct FetchBudgetTests {
    @Test func aFetchWaitsForReleasedBytes() async throws {
        let budget = FetchBudget(capacity: 100, maxWait: .seconds(10))
        try await budget.acquire(70)
        let second = Task { try await budget.acquire(50) }
        try await Tools.waitUntil("the second fetch waits", timeout: .seconds(10)) { await budget.waiting == 1 }
        await budget.release(40)  // the first photo arrived with 30 bytes
        try await second.value
        #expect(await budget.usage.inUse == 80)
        #expect(await budget.usage.peak <= 100)
    }

    @Test func anUploadWaitsForBytesButNotBehindTheBackfill() async throws {
        let budget = FetchBudget(capacity: 100, maxWait: .seconds(10))
        try await budget.acquire(100)
        let backfill = Task { try await budget.acquire(60) }
        try await Tools.waitUntil("the backfill's fetch waits", timeout: .seconds(10)) { await budget.waiting == 1 }
        let upload = Task { try await budget.acquire(60, isUpload: true) }
        try await Tools.waitUntil("the upload's fetch waits", timeout: .seconds(10)) { await budget.waiting == 2 }
        await budget.release(100)
        try await upload.value
        #expect(await budget.waiting == 1, "the backfill's fetch still waits: 60 + 60 bytes do not fit in 100")
        await budget.release(60)
        try await backfill.value
        #expect(await budget.usage.inUse == 60)
    }

    @Test func aWaitIsBoundedAndSaysSo() async throws {
        let budget = FetchBudget(capacity: 100, maxWait: .milliseconds(50))
        try await budget.acquire(100)
        await #expect(throws: FetchBudget.TimedOut.self) { try await budget.acquire(1) }
        #expect(await budget.waiting == 0)
    }
}
