import Testing

@testable import Reducer

struct CrashPointTests {
    @Test func parsesWhatTheCrashTestsPass() {
        #expect(CrashPoint("after-id-manifests:2") == CrashPoint(step: .afterIDManifests, flush: 2))
        #expect(CrashPoint("after-id-manifests:13") == CrashPoint(step: .afterIDManifests, flush: 13))
        for bad in ["after-id-manifests", "after-id-manifests:0", "after-markers:2", ":3", "after-id-manifests:x"] {
            #expect(CrashPoint(bad) == nil, "\(bad)")
        }
    }
}
