import Logging
import ObjectStorage

/// One image's fetch, retried according to who is to blame when it fails:
/// - the object (missing, archived, refused, not a regular file, too large):
///   `objectAttempts` tries, then the image's dead letter;
/// - S3 denied access: as many tries, then `ObjectFetcher.verdict(on:)` says
///   whether the denial is the object's (a dead letter) or access is lost
///   for every object (the service's, below);
/// - the service (credentials, access lost): tried again until
///   `accessDeniedPatience` has passed since the first try (keys being
///   rotated, a role still propagating), then the extractor stops with the
///   batch uncommitted; missing credentials stop it at once;
/// - nobody yet (S3 unreachable, 5xx after the client's own retries): tried
///   again until it passes; giving up would lose the image.
struct ImageFetch: Sendable {
    let fetcher: ObjectFetcher
    let objectAttempts: Int
    let accessDeniedPatience: Duration
    let logger: Logger

    /// The object's bytes, or the object's fault; throws the service's.
    func fetch(_ uri: String) async throws -> Result<[UInt8], any Error> {
        var delay = Duration.milliseconds(200)
        var objectFailures = 0
        let started = ContinuousClock.now
        func patient(_ error: ObjectFetcher.ServiceError) throws {
            guard error.isRetriable, ContinuousClock.now - started < accessDeniedPatience else { throw error }
            logger.warning("S3 refused access, retrying", metadata: ["uri": "\(uri)", "error": "\(error)"])
        }
        while true {
            do {
                return .success(try await fetcher.fetch(uri))
            } catch let error as ObjectFetcher.FetchError {
                objectFailures += 1
                guard !error.isFinal, objectFailures < objectAttempts else { return .failure(error) }
                logger.info("object unreadable, trying again", metadata: ["uri": "\(uri)", "error": "\(error)"])
            } catch let denial as ObjectFetcher.AccessDenied {
                objectFailures += 1
                if objectFailures >= objectAttempts {
                    switch await fetcher.verdict(on: denial) {
                    case .object(let error): return .failure(error)
                    case .service(let error): try patient(error)
                    }
                }
            } catch let error as ObjectFetcher.ServiceError {
                try patient(error)
            } catch {
                try Task.checkCancellation()  // the batch stays uncommitted, not dead-lettered
                logger.warning("fetch failed, retrying", metadata: ["uri": "\(uri)", "error": "\(error)"])
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(10))
        }
    }
}
