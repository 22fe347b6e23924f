#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Where a dataset's images may be: inside its root (the default), so that a label file or spec
/// from elsewhere cannot make xrbench read arbitrary files, or wherever the options allow.
public struct ImagePathPolicy: Sendable, Hashable, Codable {
    /// Image paths may be absolute or lead out of the root with `..` (and symbolic links may
    /// point anywhere): the `allow_outside_root` option.
    public var allowsOutsideRoot: Bool
    /// Images inside the root may be symbolic links (or under linked folders) to files outside
    /// it: the `follow_symlinks` option. Links that stay inside the root are always followed.
    public var followsSymlinksOutOfRoot: Bool

    /// Creates a policy; the default keeps every image inside the root.
    public init(allowsOutsideRoot: Bool = false, followsSymlinksOutOfRoot: Bool = false) {
        self.allowsOutsideRoot = allowsOutsideRoot
        self.followsSymlinksOutOfRoot = followsSymlinksOutOfRoot
    }

    /// Images stay inside the root, links included.
    public static let insideRoot = ImagePathPolicy()

    /// Why `path` (as a label file writes it) leads out of the root, or nil when it stays in or
    /// the policy allows it: an absolute path, more `..` than folders before them, a NUL byte.
    /// Nothing on disk is read: the check is on the text.
    public func problem(with path: String) -> String? {
        if path.utf8.contains(0) { return "contains a NUL byte" }
        guard !allowsOutsideRoot else { return nil }
        if path.hasPrefix("/") { return "is absolute" }
        var depth = 0
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..":
                depth -= 1
                if depth < 0 { return "climbs out of the root with \"..\"" }
            default: depth += 1
            }
        }
        return nil
    }
}

extension Manifest {
    /// The image file of `sample` as the label file names it: inside the root unless the
    /// dataset allows otherwise (checked when the manifest was made). Symbolic links are not
    /// resolved: use `readableImageURLs(of:)` to open images.
    public func imageURL(of sample: Sample) -> URL {
        sample.imagePath.hasPrefix("/") ? URL(fileURLWithPath: sample.imagePath)
            : root.appendingPathComponent(sample.imagePath, isDirectory: false)
    }

    /// The image files of `samples`, checked to stay inside the root once symbolic links are
    /// resolved (unless the dataset follows links out of it, or allows images outside it).
    /// An image that does not exist is returned as named, for the decoder to report.
    /// - Throws: `DatasetError.symlinkOutsideRoot` naming the image and where it leads.
    public func readableImageURLs(of samples: [Sample]) throws(DatasetError) -> [URL] {
        try checkReadableImages(samples)
        return samples.map(imageURL(of:))
    }

    /// Checks what `readableImageURLs(of:)` checks without keeping the URLs (each is made and
    /// dropped in turn): a URL takes ~400 bytes, 8 MB for 20,000 images.
    /// - Throws: `DatasetError.symlinkOutsideRoot` naming the image and where it leads.
    public func checkReadableImages(_ samples: [Sample]) throws(DatasetError) {
        guard !imagePolicy.allowsOutsideRoot && !imagePolicy.followsSymlinksOutOfRoot else { return }
        guard let resolvedRoot = Self.resolvedPath(root.path) else { return }  // no root: nothing to read
        for sample in samples {
            let url = imageURL(of: sample)
            guard let target = Self.resolvedPath(url.path) else { continue }
            guard target == resolvedRoot || target.hasPrefix(resolvedRoot == "/" ? "/" : resolvedRoot + "/") else {
                throw .symlinkOutsideRoot(path: url.path, target: target, root: root.path)
            }
        }
    }

    /// The image file of one sample (see `readableImageURLs(of:)`).
    public func readableImageURL(of sample: Sample) throws(DatasetError) -> URL {
        try readableImageURLs(of: [sample])[0]
    }

    /// `path` with every symbolic link resolved (`realpath`), or nil when it does not exist.
    static func resolvedPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
