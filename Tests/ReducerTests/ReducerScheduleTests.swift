import Kafka
import Testing

@testable import Reducer

@Suite("Reducer schedule: when to flush, publish a model, stop")
struct ReducerScheduleTests {
    let t0 = ContinuousClock.now

    @Test func aFullBatchFlushesAtOnceAndAPartialOneAfterTheIntervalIfOffsetsMoved() {
        var schedule = ReducerSchedule()
        schedule.flushRecords = 100
        schedule.flushInterval = .seconds(30)
        #expect(schedule.flushIsDue(pending: 100, offsetsMoved: true, lastFlush: t0, now: t0))
        #expect(!schedule.flushIsDue(pending: 99, offsetsMoved: true, lastFlush: t0, now: t0 + .seconds(29)))
        #expect(schedule.flushIsDue(pending: 1, offsetsMoved: true, lastFlush: t0, now: t0 + .seconds(30)))
        // Only dead letters or duplicates read: nothing pending, but their offsets must be committed.
        #expect(schedule.flushIsDue(pending: 0, offsetsMoved: true, lastFlush: t0, now: t0 + .seconds(31)))
        #expect(!schedule.flushIsDue(pending: 0, offsetsMoved: false, lastFlush: t0, now: t0 + .seconds(300)))
    }

    @Test func theBatchIsFullAtFlushRecords() {
        var schedule = ReducerSchedule()
        schedule.flushRecords = 2_000
        #expect(!schedule.isFull(pending: 0))
        #expect(!schedule.isFull(pending: 1_999))
        #expect(schedule.isFull(pending: 2_000))
    }

    @Test func theFirstModelWaitsForEnoughImagesAndTimeThenOnlyForNewImages() {
        var schedule = ReducerSchedule()
        schedule.modelMinImages = 1_000
        schedule.modelFirstAfter = .seconds(60)
        schedule.modelEvery = .seconds(60)
        func due(_ images: Int, published: Int = 0, last: (at: ContinuousClock.Instant, images: Int)? = nil,
                 at seconds: Int64) -> Bool {
            schedule.modelIsDue(images: images, publishedSamples: published, lastModel: last, started: t0, now: t0 + .seconds(seconds))
        }
        #expect(!due(999, at: 600), "too few images")
        #expect(!due(1_000, at: 59), "too early")
        #expect(due(1_000, at: 60))
        #expect(!due(1_000, published: 1_000, at: 600), "an earlier process published these images already")
        let last = (at: t0 + .seconds(60), images: 1_500)
        #expect(!due(1_800, last: last, at: 119))
        #expect(due(1_800, last: last, at: 120))
        #expect(!due(1_500, last: last, at: 600), "no image since the last model")
        schedule.modelEvery = nil
        #expect(!due(5_000, at: 600), "only at the end")
    }

    @Test func theMinimumIsTwoImagesWhateverTheSetting() {
        var schedule = ReducerSchedule()
        schedule.modelMinImages = 0
        schedule.modelFirstAfter = .zero
        #expect(!schedule.modelIsDue(images: 1, publishedSamples: 0, lastModel: nil, started: t0, now: t0))
        #expect(schedule.modelIsDue(images: 2, publishedSamples: 0, lastModel: nil, started: t0, now: t0))
    }

    @Test func itStopsWhenEveryImageIsAccountedForOrWhenIdle() {
        var schedule = ReducerSchedule()
        #expect(schedule.stopWhenDone(allAccounted: false) == nil)
        #expect(schedule.stopWhenDone(allAccounted: true) == .allAccounted(finalize: true))
        #expect(schedule.stopWhenIdle(lastRecord: t0, now: t0 + .seconds(3_600)) == nil, "no idle limit: never idle")
        schedule.exitWhenIdle = .seconds(5)
        #expect(schedule.stopWhenIdle(lastRecord: t0, now: t0 + .seconds(4)) == nil)
        #expect(schedule.stopWhenIdle(lastRecord: t0, now: t0 + .seconds(5)) == .idle(finalize: true))
        schedule.finalizeWhenDone = false  // timing the reduce alone
        #expect(schedule.stopWhenDone(allAccounted: true) == .allAccounted(finalize: false))
        #expect(schedule.stopWhenIdle(lastRecord: t0, now: t0 + .seconds(5)) == .idle(finalize: false))
    }

    /// The defaults a user gets: `fruits reduce` without flags.
    @Test func theServiceDefaultsAreTheSchedules() {
        let configuration = ReducerService.Configuration(kafka: .init(bootstrapServers: "localhost:9092"))
        #expect(configuration.flushRecords == 2_000 && configuration.flushInterval == .seconds(30))
        #expect(configuration.modelEvery == .seconds(60) && configuration.modelMinImages == 1_000 && configuration.modelFirstAfter == .seconds(60))
        #expect(configuration.exitWhenIdle == nil && configuration.finalizeWhenDone)
    }

    @Test func itTakesTheServicesConfiguration() {
        var configuration = ReducerService.Configuration(kafka: .init(bootstrapServers: "localhost:9092"))
        configuration.flushRecords = 7
        configuration.exitWhenIdle = .seconds(3)
        configuration.modelEvery = nil
        configuration.finalizeWhenDone = false
        let schedule = configuration.schedule
        #expect(schedule.flushRecords == 7)
        #expect(schedule.exitWhenIdle == .seconds(3))
        #expect(schedule.modelEvery == nil)
        #expect(!schedule.finalizeWhenDone)
    }
}
