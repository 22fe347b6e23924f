import Datasets
import Foundation
import Testing
import TestSupport

/// A label file must not make xrbench read files outside the dataset's root: `..` and absolute
/// image paths are refused where they are written, symbolic links out of the root when images
/// are opened, unless the dataset's options allow them.
@Suite struct ImagePathTests {
    private func csvFolder(_ rows: [String]) throws -> URL {
        let folder = try makeTemporaryDirectory()
        try (["path,finding"] + rows).joined(separator: "\n").write(to: folder.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
        return folder
    }

    private func csvOptions(_ policy: ImagePathPolicy = .insideRoot) -> CSVManifestOptions {
        var options = CSVManifestOptions(file: "labels.csv", imageColumn: "path", labels: [.binary("finding")])
        options.imagePolicy = policy
        return options
    }

    @Test(arguments: [
        ("../outside/x.png", "climbs out of the root with \"..\""),
        ("images/../../x.png", "climbs out of the root with \"..\""),
        ("/etc/passwd", "is absolute"),
    ])
    func pathsOutOfTheRootAreRefusedWithFileAndLine(path: String, reason: String) throws {
        let folder = try csvFolder(["images/a.png,1", "\(path),0"])
        let error = try #require(throws: DatasetError.self) { try loadCSVManifest(root: folder, options: csvOptions()) }
        let file = folder.appendingPathComponent("labels.csv").path
        #expect(error == .imageOutsideRoot(path: path, root: folder.path, location: "\(file), line 3", reason: reason))
        #expect(error.description.contains("set `allow_outside_root: true` in the dataset's options"))
        // Allowed when the dataset says so; an absolute path is then used as it is.
        let allowed = try loadCSVManifest(root: folder, options: csvOptions(ImagePathPolicy(allowsOutsideRoot: true)))
        let sample = try #require(allowed.samples.first { $0.imagePath == path })
        #expect(allowed.imageURL(of: sample).path == (path.hasPrefix("/") ? path : folder.appendingPathComponent(path).path))
    }

    @Test func pathsThatStayInsideAreKept() throws {
        let folder = try csvFolder(["images/./a.png,1", "images/sub/../b.png,0"])
        #expect(try loadCSVManifest(root: folder, options: csvOptions()).samples.count == 2)
    }

    @Test func everyAdapterChecksItsImagePaths() throws {
        let folder = try makeTemporaryDirectory()
        try """
            Path,Sex,Age,Frontal/Lateral,AP/PA,Edema
            CheXpert-v1.0-small/train/patient1/study1/../../../../../etc/x.jpg,Female,50,Frontal,AP,1.0
            """.write(to: folder.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.self) {
            try loadCheXpertManifest(root: folder, options: CheXpertOptions(findings: ["Edema"], labelFiles: [.init(path: "train.csv", split: .train)]))
        }
        try "MURA-v1.1/train/XR_HAND/patient1/study1_positive/../../../../../../etc/x.png\n"
            .write(to: folder.appendingPathComponent("train_image_paths.csv"), atomically: true, encoding: .utf8)
        let mura = try #require(throws: DatasetError.self) {
            try loadMURAManifest(root: folder, options: MURAOptions(splits: [.init(imagePaths: "train_image_paths.csv", labeledStudies: nil, split: .train)]))
        }
        #expect(mura.description.contains("train_image_paths.csv, line 1: image path"))
        try "path,role,class\n../../x.jpg,query,Edema\n".write(to: folder.appendingPathComponent("retrieval.csv"), atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.self) { try loadRetrievalSetManifest(root: folder, file: "retrieval.csv") }
        // NIH finds images by name under the root: an Image Index is a name, never a path.
        try """
            Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position
            ../../etc/passwd,No Finding,0,1,50,F,PA
            """.write(to: folder.appendingPathComponent("Data_Entry_2017.csv"), atomically: true, encoding: .utf8)
        let nih = try #require(throws: DatasetError.self) { try loadNIHManifest(root: folder, options: NIHOptions(dataEntry: "Data_Entry_2017.csv")) }
        #expect(nih.description.contains("Data_Entry_2017.csv, line 2, column \"Image Index\""))
    }

    @Test func symbolicLinksOutOfTheRootAreRefusedWhenImagesAreOpened() throws {
        let outside = try makeTemporaryDirectory()
        try Data("secret".utf8).write(to: outside.appendingPathComponent("secret.png"))
        let folder = try csvFolder(["images/inside.png,1", "images/linked.png,0", "elsewhere/secret.png,0", "images/alias.png,1"])
        let manager = FileManager.default
        try manager.createDirectory(at: folder.appendingPathComponent("images"), withIntermediateDirectories: true)
        try Data("image".utf8).write(to: folder.appendingPathComponent("images/inside.png"))
        try manager.createSymbolicLink(atPath: folder.appendingPathComponent("images/linked.png").path,
                                       withDestinationPath: outside.appendingPathComponent("secret.png").path)
        try manager.createSymbolicLink(atPath: folder.appendingPathComponent("elsewhere").path, withDestinationPath: outside.path)
        try manager.createSymbolicLink(atPath: folder.appendingPathComponent("images/alias.png").path, withDestinationPath: "inside.png")
        let manifest = try loadCSVManifest(root: folder, options: csvOptions())  // nothing is opened yet
        let byPath = Dictionary(uniqueKeysWithValues: manifest.samples.map { ($0.imagePath, $0) })
        #expect(try manifest.readableImageURL(of: byPath["images/inside.png"]!).lastPathComponent == "inside.png")
        #expect(try manifest.readableImageURL(of: byPath["images/alias.png"]!).lastPathComponent == "alias.png")  // a link inside the root
        for path in ["images/linked.png", "elsewhere/secret.png"] {
            let error = try #require(throws: DatasetError.self) { try manifest.readableImageURL(of: byPath[path]!) }
            guard case .symlinkOutsideRoot(let image, let target, _) = error else { Issue.record("\(error)"); continue }
            #expect(image.hasSuffix(path) && target.hasSuffix("/secret.png"))
            #expect(error.description.contains("set `follow_symlinks: true`"))
        }
        #expect(throws: DatasetError.self) { try manifest.readableImageURLs(of: manifest.samples) }
        for policy in [ImagePathPolicy(followsSymlinksOutOfRoot: true), ImagePathPolicy(allowsOutsideRoot: true)] {
            let allowing = try loadCSVManifest(root: folder, options: csvOptions(policy))
            #expect(try allowing.readableImageURLs(of: allowing.samples).count == 4)
        }
    }
}
