import Events
import TestSupport
import Testing

@Suite("deploy/k8s renders offline and holds the deployment's promises", .tags(.integration))
struct DeploymentTests {
    /// The base and both overlays, validated against the Kubernetes schemas and
    /// KEDA's kafka trigger; the ScaledObject must watch the group and topic
    /// the extractor really uses, which the code names here.
    @Test func manifestsRenderValidateAndTargetTheExtractorGroup() async throws {
        let check = try await Tools.run(Tools.python, [
            Tools.root.appendingPathComponent("tools/check_k8s.py").path,
            "--group", PipelineGroups.extractors, "--topic", PipelineTopics().images,
            "--group", PipelineGroups.liveExtractors, "--topic", PipelineTopics().liveImages,
        ], timeout: .seconds(120))
        #expect(check.status == 0, "\(check.output)")
    }
}
