import Foundation

extension Thread {
    /// Runs `body` on a new thread that `top -H`, gdb and /proc show as
    /// `name` (Linux keeps 15 bytes of it). The name is given to the kernel
    /// from inside the thread (its /proc/thread-self/comm): on Linux a
    /// name given before `start` is not applied, and Foundation's
    /// `Thread.current.name` setter did not always reach the kernel either
    /// (ThreadExecutorTests saw the starter's "oot.default-qos" in a full run).
    public static func start(named name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) {
        let shown = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        let thread = Thread {
            #if os(Linux)
            // pthread_setname_np needs _GNU_SOURCE and prctl is variadic: the kernel's own file.
            let file = open("/proc/thread-self/comm", O_WRONLY)
            if file >= 0 {
                _ = shown.withCString { write(file, $0, strlen($0)) }
                close(file)
            }
            #endif
            Thread.current.name = shown
            body()
        }
        if let stackSize { thread.stackSize = stackSize }
        thread.start()
    }
}
