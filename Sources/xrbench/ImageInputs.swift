import Foundation

/// File extensions `xrbench` reads as images when it walks a folder.
let imageFileExtensions: Set<String> = ["png", "jpg", "jpeg"]

/// Expands `--images` arguments into image files: files are kept as given, folders are walked
/// recursively for PNG and JPEG files in sorted path order, so a folder always embeds in the
/// same row order.
///
/// - Throws: `CommandError` naming a path that does not exist or a folder with no images.
func collectImageFiles(_ paths: [String]) throws -> [URL] {
    var files: [URL] = []
    let manager = FileManager.default
    for path in paths {
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CommandError("\(path): no such file or folder; check the --images path")
        }
        let url = URL(fileURLWithPath: path)
        guard isDirectory.boolValue else {
            files.append(url)
            continue
        }
        var found: [URL] = []
        if let walker = manager.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let file as URL in walker where imageFileExtensions.contains(file.pathExtension.lowercased()) {
                found.append(file)
            }
        }
        guard !found.isEmpty else {
            throw CommandError("\(path): the folder holds no .png, .jpg or .jpeg files")
        }
        files.append(contentsOf: found.sorted { $0.path < $1.path })
    }
    return files
}

/// Reads an image list: one path per line, relative paths taken from the list file's folder;
/// blank lines and lines starting with `#` are skipped.
///
/// - Throws: `CommandError` naming the list file, and the line of any entry that does not exist.
func readImageList(_ path: String) throws -> [URL] {
    let listURL = URL(fileURLWithPath: path)
    let text: String
    do {
        text = try String(contentsOf: listURL, encoding: .utf8)
    } catch {
        throw CommandError("\(path): cannot read the image list (\(error.localizedDescription)); pass a UTF-8 text file with one image path per line")
    }
    let base = listURL.deletingLastPathComponent()
    var files: [URL] = []
    for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.isEmpty || line.hasPrefix("#") { continue }
        let url = line.hasPrefix("/") ? URL(fileURLWithPath: line) : base.appendingPathComponent(line)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CommandError("\(path):\(index + 1): \(line) does not exist; fix the path or remove the line")
        }
        files.append(url)
    }
    guard !files.isEmpty else { throw CommandError("\(path): the image list names no images") }
    return files
}
