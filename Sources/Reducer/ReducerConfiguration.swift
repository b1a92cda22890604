import Events
import Kafka
import Results

extension ReducerService {
    public struct Configuration: Sendable {
        public var kafka: KafkaConfiguration
        public var topics = PipelineTopics()
        public var groupID = PipelineGroups.reducer
        /// When to flush, publish a model and stop: the defaults live there,
        /// and the properties below read and set them.
        var schedule = ReducerSchedule()
        public var flushRecords: Int { get { schedule.flushRecords } set { schedule.flushRecords = newValue } }
        public var flushInterval: Duration { get { schedule.flushInterval } set { schedule.flushInterval = newValue } }
        /// How often the topics' partitions are looked up again (new partitions,
        /// a dead-letter topic created late).
        public var partitionRefresh: Duration = .seconds(30)
        /// Finalize and stop after this long without records (counted once the
        /// partitions are assigned, so waiting for a topic is not idleness).
        public var exitWhenIdle: Duration? { get { schedule.exitWhenIdle } set { schedule.exitWhenIdle = newValue } }
        /// Finalize and stop once this many distinct images read by this
        /// process are accounted for: written now, or found already written
        /// (a backfill of known size, possibly into existing results). The ids
        /// are kept to count them, so this is for finite runs.
        public var expectedImages: Int?
        public var finalizeOnExit = false
        /// Whether reaching `expectedImages` (or `exitWhenIdle`) also solves
        /// the PCA and projects the parts; off only to time the reduce alone.
        public var finalizeWhenDone: Bool { get { schedule.finalizeWhenDone } set { schedule.finalizeWhenDone = newValue } }
        /// Start from the topics' beginning or end rather than the
        /// checkpoint's offsets: for a cluster that is not the one the
        /// checkpoint saw (`fruits run` starts a new embedded broker each time).
        /// nil: use the checkpoint's offsets, and refuse to start if they
        /// belong to another cluster or to a topic with fewer partitions.
        public var resetOffsets: OffsetReset?
        /// Go on when retention deleted records the checkpoint had not read
        /// yet (`RetentionLoss`); they are logged and counted either way.
        public var acceptRetentionLoss = false
        public var pca: PCAModel.Dimension = .components(64)
        /// A model is published while the reducer runs: first once it holds
        /// `modelMinImages` images and has run `modelFirstAfter`, whichever
        /// comes later, then at most every `modelEvery` when images arrived.
        /// nil: only at the end (a finite run that finalizes anyway).
        public var modelEvery: Duration? { get { schedule.modelEvery } set { schedule.modelEvery = newValue } }
        public var modelMinImages: Int { get { schedule.modelMinImages } set { schedule.modelMinImages = newValue } }
        public var modelFirstAfter: Duration { get { schedule.modelFirstAfter } set { schedule.modelFirstAfter = newValue } }
        /// The classifier published with each model: this many nearest
        /// references vote, from at most `referencesPerLabel` per label.
        public var neighbours = 5
        public var referencesPerLabel = 200
        public var classifier = ClassifierOptions()
        /// The classifier's vocabulary: labels a backfill brings, up to
        /// `maxLabels`, and the operator's `trustedLabels`; an upload's label
        /// outside it never becomes a reference (`ReferenceSet`). The
        /// references' memory is at most maxLabels x referencesPerLabel x
        /// dimension x 4 bytes (500 MiB with these defaults).
        public var maxLabels = 512
        public var trustedLabels: Set<String> = []
        public var dimension = 1280
        /// Fault injection for the crash tests: die here, as a killed pod dies.
        public var crashPoint: CrashPoint?

        public init(kafka: KafkaConfiguration) { self.kafka = kafka }
    }

    public enum OffsetReset: String, Sendable, CaseIterable {
        case earliest, latest
    }

    /// What the results hold, over every run that fed this checkpoint.
    public struct Totals: Sendable {
        public var features = 0
        public var deadLetters = 0
        public var duplicatesDropped = 0
        public var model: PCAModel?
    }

    /// Another reducer claimed these results: this one must stop writing.
    public struct Fenced: Error, CustomStringConvertible {
        public let description: String
    }

    public struct OffsetsDoNotMatch: Error, CustomStringConvertible {
        public let description: String
    }
}
