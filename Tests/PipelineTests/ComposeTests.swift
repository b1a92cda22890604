import TestSupport
import Testing

@Suite("compose/ is wired correctly (Docker cannot run here)", .tags(.integration))
struct ComposeTests {
    @Test func composeFileIsValidAndWired() async throws {
        let check = try await Tools.run(Tools.python, [
            Tools.root.appendingPathComponent("tools/check_compose.py").path,
            Tools.root.appendingPathComponent("compose/docker-compose.yml").path,
        ])
        #expect(check.status == 0, "\(check.output)")
    }
}
