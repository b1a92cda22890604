import Events
import TestSupport
import Testing

/// The upload endpoint's contract, schemas/openapi.yaml (OpenAPI 3.1): what the app codes
/// against, served at `GET /openapi.json` from the generated Sources/Ingest/OpenAPIDocument.swift.
@Suite("Upload endpoint: the OpenAPI contract", .tags(.integration), .usesFruitsBinary)
struct APIContractTests {
    /// openapi-spec-validator accepts it, its examples conform to their schemas, the label pattern
    /// refuses every control and format character, the ids `EventIdentity` makes match the id
    /// pattern, and the generated Swift is what scripts/generate-openapi makes of the YAML now.
    @Test func theContractIsValidAndItsGeneratedCopyIsCurrent() async throws {
        let ids = ["file:///srv/fruits/uploads/2026/01/01/photo.jpg", "s3://photos/uploads/2026/12/04/other.jpg"]
            .map(EventIdentity.imageID(uri:))
        let check = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/check_openapi.py").path]
            + ids.flatMap { ["--image-id", $0] }, timeout: .seconds(60))
        #expect(check.status == 0, "\(check.output)")
    }

    /// Schemathesis (stateless and stateful phases, a bounded number of examples, hostile values
    /// from the issue) against a running endpoint: the embedded broker, `ingest serve` over a
    /// directory store, an extractor and an answerer, as tools/fuzz_api.sh starts them. No 5xx, no
    /// crash, every response as the contract says, every request it forbids refused. The script
    /// bounds itself (~3 minutes at worst, typically under one); the test's bound is above it.
    @Test(.timeLimit(.minutes(5)))
    func schemathesisFindsNoServerErrorCrashOrContractViolation() async throws {
        let fuzz = try await Tools.run(Tools.root.appendingPathComponent("tools/fuzz_api.sh").path, [],
                                       environment: ["FRUITS_BIN": Tools.fruits, "FRUITS_PYTHON": Tools.python],
                                       timeout: .seconds(240))
        print(fuzz.output.split(separator: "\n").filter { $0.hasPrefix("fuzz_api:") }.joined(separator: "\n"))
        #expect(fuzz.status == 0, "\(fuzz.output.suffix(12_000))")
    }
}
