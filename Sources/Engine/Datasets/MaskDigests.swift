import Datasets
import Foundation
import Imaging
import Pipeline

/// Mask files a dataset names that cannot be read, all of them at once.
public struct UnreadableMasksError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// Each mask file's path and what is wrong with it, in manifest order.
    public var masks: [(path: String, problem: String)]

    /// Every file (the first 20, then a count), and what to do.
    public var description: String {
        unreadableFilesMessage(masks, noun: "mask file", advice: "fix or remove them (segmentation stages key on every mask's content), or set `on_error: skip` on the dataset to leave their samples out (they are then recorded in sample_issue)")
    }

    /// Same as `description`.
    public var errorDescription: String? { description }
}

/// The content digests of a manifest's mask files (`Manifest.maskFilePaths`).
enum MaskDigests {
    /// Digests by mask path, and what is wrong with the files that have none.
    struct Result {
        var digests: [String: String] = [:]
        var problems: [String: String] = [:]
    }

    /// Digests every mask file (memoised with the image digests); with `checkReadable`, also
    /// decodes each new one as a mask PNG (verdicts memoised by digest).
    static func compute(_ manifest: Manifest, digester: ImageDigests, checkReadable: Bool, threads: Int,
                        cancellation: CancellationFlag) throws -> Result {
        let paths = manifest.maskFilePaths
        guard !paths.isEmpty else { return Result() }
        let urls = paths.map(manifest.maskURL)
        var result = Result()
        for (path, digest) in zip(paths, try digester.digestsOrProblems(of: urls, threads: threads, cancellation: cancellation)) {
            switch digest {
            case .success(let digest): result.digests[path] = digest
            case .failure(let error): result.problems[path] = error.problem
            }
        }
        if checkReadable {
            let present = paths.indices.filter { result.digests[paths[$0]] != nil }
            let verdicts = try digester.readability(of: present.map { urls[$0] }, digests: present.map { result.digests[paths[$0]]! },
                                                    threads: threads, cancellation: cancellation, memoKind: "mask") { url in
                _ = try decodeMaskRaster(at: url)
            }
            for (index, verdict) in zip(present, verdicts) {
                if let verdict {
                    result.problems[paths[index]] = verdict
                    result.digests[paths[index]] = nil
                }
            }
        }
        return result
    }

    /// The first of a sample's mask files (in class order) that has a problem.
    static func firstProblem(of sample: Sample, in manifest: Manifest, problems: [String: String]) -> (file: String, problem: String)? {
        guard !problems.isEmpty, let classes = manifest.segmentation?.classes else { return nil }
        for name in classes {
            if let path = sample.masks?[name]?.filePath, let problem = problems[path] { return (manifest.maskURL(path).path, problem) }
        }
        return nil
    }
}
