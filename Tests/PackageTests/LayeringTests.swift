import Foundation
import TestSupport
import Testing

/// The package's shape as docs/code-map.md documents it, checked by
/// `tools/check_layering.py` against `swift package dump-package`.
@Suite("Package layering: targets know only the layers below them, files stay small")
struct LayeringTests {
    let script = Tools.root.appendingPathComponent("tools/check_layering.py").path
    /// The script needs only the standard library: any python3 does, `.venv` or not.
    let python = "/usr/bin/python3"

    @Test("Package.swift follows the code map's layers")
    func packageFollowsTheCodeMap() async throws {
        let (status, output) = try await Tools.run(python, [script, "--only", "layers"], timeout: .seconds(300))
        #expect(status == 0, "\(output)")
        #expect(output.hasPrefix("ok: "), "\(output)")
    }

    @Test("A process depending on another process is refused, naming both")
    func processOnProcessIsRefused() async throws {
        // The smallest manifest with the dependency the layering forbids: the
        // upload endpoint importing the reducer.
        let manifest = #"{"targets": [{"name": "Ingest", "type": "regular", "dependencies": [{"byName": ["Reducer", null]}]},"#
            + #" {"name": "Reducer", "type": "regular", "dependencies": [{"byName": ["Results", null]}]},"#
            + #" {"name": "Results", "type": "regular", "dependencies": []}]}"#
        let path = Tools.temporaryPath("layering-manifest.json")
        try manifest.write(toFile: path, atomically: true, encoding: .utf8)
        let (status, output) = try await Tools.run(python, [script, "--only", "layers", "--manifest", path])
        #expect(status == 1, "\(output)")
        #expect(output.contains("Ingest (layer 4, processes) depends on Reducer, in the same layer"), "\(output)")
    }

    @Test("No file in Sources/ over 350 lines, generated code aside")
    func sourceFilesStaySmall() async throws {
        let (status, output) = try await Tools.run(python, [script, "--only", "file-sizes"])
        #expect(status == 0, "\(output)")
    }
}
