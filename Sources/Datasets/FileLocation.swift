import Foundation

/// A file named in dataset options: an absolute path as is, anything else relative to `root`.
func resolve(_ path: String, against root: URL) -> URL {
    path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
}
