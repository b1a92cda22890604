import Common
import Testing

@testable import Extractor

@Suite("Extractor memory budget: the shares of the memory limit")
struct ExtractorMemoryBudgetTests {
    static let limit = MemoryLimit(bytes: 2 << 30, source: "cgroup v2 memory.max")

    /// What a user gets in a 2 GiB pod without flags.
    @Test func defaultsAreFortyAndTwentyPercentOfTheLimit() throws {
        let budget = try ExtractorMemoryBudget(limit: Self.limit, maxObjectBytes: 50 << 20)
        #expect(budget.decodeBytes == Int(Double(2 << 30) * 0.4))
        #expect(budget.fetchBytes == Int(Double(2 << 30) * 0.2))
    }

    @Test func theFetchBudgetHoldsAtLeastOneObject() throws {
        let small = try ExtractorMemoryBudget(limit: MemoryLimit(bytes: 200 << 20, source: "test"), maxObjectBytes: 50 << 20)
        #expect(small.fetchBytes == 50 << 20)
        #expect(throws: ExtractorMemoryBudget.Invalid.self) {
            try ExtractorMemoryBudget(limit: Self.limit, fetchBytes: 10 << 20, maxObjectBytes: 50 << 20)
        }
    }

    @Test func budgetsMustLeaveRoomForTheModel() {
        #expect(throws: ExtractorMemoryBudget.Invalid.self) {
            try ExtractorMemoryBudget(limit: Self.limit, decodeBytes: 2 << 30, maxObjectBytes: 50 << 20)
        }
        #expect(throws: ExtractorMemoryBudget.Invalid.self) {
            try ExtractorMemoryBudget(limit: Self.limit, decodeBytes: 1000, maxObjectBytes: 50 << 20)
        }
    }
}
