import Testing

@testable import Reducer

struct CrashPointTests {
    @Test func parsesWhatTheCrashTestsPass() {
        #expect(CrashPoint("after-id-manifests:2") == CrashPoint(step: .afterIDManifests, flush: 2))
        #expect(CrashPoint("after-features-part:13") == CrashPoint(step: .afterFeaturesPart, flush: 13))
        for bad in ["after-id-manifests", "after-id-manifests:0", "after-markers:2", ":3", "after-features-part:x"] {
            #expect(CrashPoint(bad) == nil, "\(bad)")
        }
    }
}
