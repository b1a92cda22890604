import Foundation

extension Thread {
    /// Runs `body` on a new thread that `top -H`, gdb and /proc show as
    /// `name` (Linux keeps 15 bytes of it). The name is set from inside the
    /// thread: on Linux a name given before `start` is not applied, and the
    /// thread would show the name of the thread that started it.
    public static func start(named name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) {
        let shown = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        let thread = Thread {
            Thread.current.name = shown
            body()
        }
        if let stackSize { thread.stackSize = stackSize }
        thread.start()
    }
}
