import Hummingbird
import Synchronization

/// The bytes of request bodies this endpoint holds at once. Each upload
/// is charged by the bytes it has actually delivered, chunk by chunk, so a
/// slow client that declares 20 MiB and sends 1 KiB holds 1 KiB, not 20
/// MiB; a chunk that does not fit refuses the upload (503).
final class BodyBudget: Sendable {
    let limit: Int
    private let used = Mutex(0)

    init(limit: Int) { self.limit = limit }

    var inUse: Int { used.withLock { $0 } }

    /// One upload's share; whatever it still holds is given back when it is
    /// released or dropped, on every path out of the request.
    final class Charge: Sendable {
        private let budget: BodyBudget
        private let held = Mutex(0)

        fileprivate init(budget: BodyBudget) { self.budget = budget }

        /// Takes `bytes` more, or nothing and false if they do not fit.
        func grow(by bytes: Int) -> Bool {
            let taken = budget.used.withLock { used in
                guard bytes <= budget.limit - used else { return false }
                used += bytes
                return true
            }
            if taken { held.withLock { $0 += bytes } }
            return taken
        }

        func release() {
            let bytes = held.withLock { held in defer { held = 0 }; return held }
            budget.used.withLock { $0 -= bytes }
        }

        deinit { release() }
    }

    func charge() -> Charge { Charge(budget: self) }

    /// A body read whole, and the budget it holds until released.
    final class Held: Sendable {
        let bytes: [UInt8]
        private let charge: Charge

        fileprivate init(bytes: [UInt8], charge: Charge) {
            self.bytes = bytes
            self.charge = charge
        }

        func release() { charge.release() }
    }

    /// Reads `body` into one array (its one copy in this process), charging
    /// each chunk as it arrives: 413 past `limit`, 503 when the budget is
    /// spent. A declared length reserves address space, not budget: pages
    /// are only resident once written.
    func read(_ body: RequestBody, declaredLength: Int?, limit: Int) async throws -> Held {
        let charge = charge()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(declaredLength ?? 256 << 10, limit))
        for try await chunk in body {
            guard chunk.readableBytes <= limit - bytes.count else { throw APIError.tooLarge(limit: limit) }
            guard charge.grow(by: chunk.readableBytes) else { throw APIError.busy }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return Held(bytes: bytes, charge: charge)
    }
}
