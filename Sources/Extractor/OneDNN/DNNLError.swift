import CDNNL

/// A oneDNN call that did not return `dnnl_success`.
public struct DNNLError: Error, CustomStringConvertible {
    public let status: dnnl_status_t
    public let operation: String

    public var description: String {
        "oneDNN \(operation) failed with status \(status.rawValue) (\(Self.name(of: status)))"
    }

    static func name(of status: dnnl_status_t) -> String {
        switch status {
        case dnnl_out_of_memory: "out of memory"
        case dnnl_invalid_arguments: "invalid arguments"
        case dnnl_unimplemented: "no implementation for these shapes on this CPU"
        case dnnl_runtime_error: "runtime error"
        default: "see dnnl_types.h"
        }
    }
}

@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ operation: @autoclosure () -> String) throws {
    if status != dnnl_success { throw DNNLError(status: status, operation: operation()) }
}
