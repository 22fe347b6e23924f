import Foundation

/// NIH's official lists, `train_val_list.txt` and `test_list.txt`: image names, one a line.
struct NIHOfficialLists {
    let trainVal: String?
    let test: String?
    let root: URL

    init(trainVal: String?, test: String?, root: URL) {
        self.trainVal = trainVal
        self.test = test
        self.root = root
    }

    /// The official split of each image in `names` (in that order); nil without lists.
    ///
    /// With both lists every image must be in exactly one; with one, the images it does not
    /// name belong to the other split. Listed images the label file lacks are ignored (the
    /// label file may be a subset), but a list none of whose images it has is an error: the
    /// files do not belong together.
    /// - Throws: `DatasetError` for a missing list file, an image in both lists, images in
    ///   neither, or a list that shares no image with the label file.
    func splits(of names: [String], labelFile: String) throws(DatasetError) -> [OfficialSplit]? {
        guard trainVal != nil || test != nil else { return nil }
        let present = Set(names)
        var listed: [String: OfficialSplit] = [:]
        for (option, path, split) in [("train_val_list", trainVal, OfficialSplit.train), ("test_list", test, .test)] {
            guard let path else { continue }
            let table = try CSVTable.read(contentsOf: resolve(path, against: root), columnNames: ["image"], hint:
                "Name NIH's official \(option == "test_list" ? "test_list.txt" : "train_val_list.txt") from the NIH Clinical Center download in \(option).")
            var shared = 0
            for row in 0..<table.rowCount {
                let name = table.string(row: row, column: 0).trimmingCharacters(in: .whitespaces)
                if name.isEmpty { continue }
                if let earlier = listed[name], earlier != split {
                    throw .badValue(file: table.file, line: table.line(ofRow: row), column: "image (first column)", value: name,
                                    expected: "an image in only one of train_val_list and test_list")
                }
                listed[name] = split
                if present.contains(name) { shared += 1 }
            }
            guard shared > 0 else {
                throw .invalidOption(name: option, value: table.file,
                                     reason: "none of its \(table.rowCount) images is in \(labelFile); name the list that belongs to that label file")
            }
        }
        let unlisted: OfficialSplit? = trainVal == nil ? .train : test == nil ? .test : nil
        var inNeither: [String] = []
        let splits = names.map { name -> OfficialSplit in
            if let split = listed[name] { return split }
            if let unlisted { return unlisted }
            inNeither.append(name)
            return .train
        }
        guard inNeither.isEmpty else {
            throw .invalidOption(name: "train_val_list, test_list", value: "\(trainVal ?? ""), \(test ?? "")",
                                 reason: "\(inNeither.count) images of \(labelFile) are in neither list (\(inNeither.prefix(10).joined(separator: ", "))"
                                     + (inNeither.count > 10 ? ", …" : "") + "); the official lists name every image, so use the lists of the same release")
        }
        return splits
    }
}

/// Finds NIH images under a root by file name.
enum NIHImageLocator {
    /// The deepest folder level searched: `root/images_001/images/` is two below the root.
    static let maximumDepth = 2

    /// Path relative to `root` of every name in `names` found in the root or in folders up to
    /// `maximumDepth` levels below it; names not found are absent. A name found more than once
    /// takes the shallowest copy, then the first in path order. An unreadable or absent root
    /// finds nothing.
    /// - Complexity: one directory listing per folder searched; one `stat` per entry that is
    ///   not a wanted image (images themselves are not stat'ed).
    static func locate(_ names: Set<String>, under root: URL) -> [String: String] {
        let fileManager = FileManager.default
        var found: [String: String] = [:]
        var level = [""]  // folders relative to the root, "" the root itself
        for depth in 0...maximumDepth {
            var next: [String] = []
            for folder in level {
                let path = folder.isEmpty ? root.path : root.appendingPathComponent(folder).path
                guard let entries = try? fileManager.contentsOfDirectory(atPath: path) else { continue }
                for entry in entries.sorted() where !entry.hasPrefix(".") {
                    let relative = folder.isEmpty ? entry : folder + "/" + entry
                    if names.contains(entry) {
                        if found[entry] == nil { found[entry] = relative }
                        continue
                    }
                    var isDirectory: ObjCBool = false
                    if depth < maximumDepth, fileManager.fileExists(atPath: path + "/" + entry, isDirectory: &isDirectory), isDirectory.boolValue {
                        next.append(relative)
                    }
                }
            }
            level = next
        }
        return found
    }
}
