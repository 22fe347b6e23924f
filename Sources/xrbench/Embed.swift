import ArgumentParser
import Foundation
import Engine
import Imaging
import Models
import Pipeline
import Tensor

extension XRBench {
    /// `xrbench embed`: runs a frozen ViT backbone (from the registry's backbone families) over
    /// images and writes a `.npy` file.
    struct Embed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Embed radiographs with a frozen ViT (a registered backbone family) and write a NumPy .npy file.",
            discussion: """
            The backbone is built from its family's options exactly as a spec's `backbones:` entry is
            (`xrbench kinds` lists the families and their options): --model DIR is the `path`
            option of `dinov2`, --resolution and --normalization its other options, --option NAME=VALUE
            any option (YAML values: `--option mean=[0.5,0.5,0.5]`).

            Images are padded to a square, scaled to [0, 1], replicated to 3 channels, resized with
            antialiased bilinear interpolation and normalised. Normalisation, the same default as a
            spec's dinov2 backbone: the model folder's preprocessor_config.json mean/std when it has one,
            else ImageNet's (--normalization imagenet forces ImageNet's).

            Rows follow the input order; folders are read in sorted path order. Beside OUT.npy,
            OUT.paths.txt (for cls.npy: cls.paths.txt) lists the image of each row, relative to
            --relative-to (default: the one folder given with --images, or the --list file's folder),
            so a spec's `precomputed` backbone matches them to a dataset rooted there.

            Examples:
              xrbench embed --model models/dinov2-base --images scans/ --out cls.npy
              xrbench embed --model models/rad-dino --list test.txt --tokens mean --resolution 224 --out mean.npy
              xrbench embed --model models/dinov2-base --tensor pixels.npy --tokens all --out tokens.npy
              xrbench embed --backbone vit-tiny-random --option seed=3 --images scans/ --out tiny.npy
            """
        )

        /// Which tokens of the final-LayerNorm sequence to write.
        enum Tokens: String, ExpressibleByArgument, CaseIterable {
            case cls, patch, mean, all
        }

        @Option(name: .long, help: ArgumentHelp("Backbone family (a ViT family of `xrbench kinds`).", valueName: "KIND"))
        var backbone: String = "dinov2"

        @Option(name: .long, help: ArgumentHelp("Model folder with config.json and model.safetensors (the family's `path`).", valueName: "DIR"))
        var model: String?

        @Option(name: .long, parsing: .singleValue,
                help: ArgumentHelp("A backbone option, as in a spec (repeatable).", valueName: "NAME=VALUE"))
        var option: [String] = []

        @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Image files or folders of PNG/JPEG files.", valueName: "PATH"))
        var images: [String] = []

        @Option(name: .long, help: ArgumentHelp("A text file with one image path per line.", valueName: "FILE"))
        var list: String?

        @Option(name: .long, help: ArgumentHelp("An already preprocessed float32 array [B, 3, H, W] (skips image loading).", valueName: "IN.npy"))
        var tensor: String?

        @Option(name: .long, help: "Square input size in pixels; a multiple of the patch size (default: the family's, 518 for dinov2).")
        var resolution: Int?

        @Option(name: .long, help: "model: the folder's preprocessor_config.json mean/std when present, else ImageNet's (default); imagenet.")
        var normalization: String?

        @Option(name: .long, help: "cls: [B, D]; mean: mean-pooled patch tokens [B, D]; patch: [B, N, D]; all: [B, T, D].")
        var tokens: Tokens = .cls

        @Option(name: .long, help: "Images per forward pass.")
        var batch: Int = 8

        @Option(name: .long, help: ArgumentHelp("The folder OUT.paths.txt paths are relative to.", valueName: "DIR"))
        var relativeTo: String?

        @Option(name: .long, help: ArgumentHelp("Output .npy file.", valueName: "OUT.npy"))
        var out: String

        func validate() throws {
            let sources = [!images.isEmpty, list != nil, tensor != nil].filter { $0 }.count
            guard sources == 1 else {
                throw ValidationError("Give exactly one of --images, --list or --tensor.")
            }
            guard batch > 0 else { throw ValidationError("--batch must be positive, not \(batch).") }
            for entry in option where !entry.contains("=") {
                throw ValidationError("--option \(entry): write NAME=VALUE, e.g. --option resolution=224.")
            }
        }

        /// The backbone entry these options describe, validated against the family's schema.
        /// - Parameter inputSide: the side of a `--tensor` input, the resolution when none is given.
        /// - Throws: `CommandError` naming the flag at fault, one line per problem.
        func backboneEntry(registry: Registry, inputSide: Int? = nil) throws -> (RegistryEntry, any TransformerBackbone) {
            var lines = ["kind: \(yamlScalar(backbone))"]
            if let model { lines.append("path: \(yamlScalar(model))") }
            if let side = resolution ?? inputSide { lines.append("resolution: \(side)") }
            if let normalization { lines.append("normalization: \(yamlScalar(normalization))") }
            for entry in option {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                lines.append("\(parts[0]): \(parts.count > 1 ? parts[1] : "")")
            }
            let loader = SpecLoader(catalog: registry.catalog)
            let entry: RegistryEntry
            do {
                entry = try loader.loadEntry(yaml: lines.joined(separator: "\n"), section: .backbone, origin: "command line",
                                             directory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            } catch let error as SpecError {
                let flags = ["kind": "--backbone", "path": "--model", "resolution": "--resolution", "normalization": "--normalization"]
                throw CommandError(error.diagnostics.map { diagnostic in
                    let option = diagnostic.keyPath.split(separator: ".").first.map(String.init) ?? ""
                    let flag = flags[option] ?? (option.isEmpty ? "--backbone \(backbone)" : "--option \(option)")
                    return "\(flag): \(diagnostic.message)" + (diagnostic.suggestion.map { "; did you mean \"\($0)\"?" } ?? "")
                }.joined(separator: "\n"))
            }
            guard let family = registry.backbones[entry.kind] else { preconditionFailure("a validated backbone kind is registered") }
            let built = try family.makeBackbone(ComponentOptions(stage: "xrbench embed", values: entry.options))
            guard let transformer = built as? any TransformerBackbone else {
                throw CommandError("--backbone \(backbone): not a vision transformer; xrbench embed writes ViT tokens "
                                   + "(families: \(registry.backbones.keys.sorted().joined(separator: ", ")))")
            }
            return (entry, transformer)
        }

        func run() async throws {
            let outURL = URL(fileURLWithPath: out)
            let outFolder = outURL.deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: outFolder) else {
                throw CommandError("\(out): the folder \(outFolder) does not exist; create it first")
            }
            let pixels = try tensor.map { try loadNumPy(at: URL(fileURLWithPath: $0)) }
            let (_, transformer) = try backboneEntry(registry: makeRegistry(),
                                                     inputSide: pixels.flatMap { $0.shape.count == 4 ? $0.shape[2] : nil })
            let backbone = transformer.model
            let patch = backbone.configuration.patchSize

            let embedded: Tensor
            if let tensor, let pixels {
                guard pixels.shape.count == 4, pixels.shape[1] == backbone.configuration.channelCount else {
                    throw CommandError("\(tensor): expected a float array [B, \(backbone.configuration.channelCount), H, W], found shape \(pixels.shape)")
                }
                guard pixels.shape[2] % patch == 0, pixels.shape[3] % patch == 0 else {
                    throw CommandError("\(tensor): height and width \(pixels.shape[2])×\(pixels.shape[3]) must be multiples of the patch size \(patch)")
                }
                embedded = try embedTensor(pixels, with: backbone)
            } else {
                let files = try list.map(readImageList) ?? collectImageFiles(images)
                embedded = try await embedImages(files, preprocessing: transformer.preprocessing, with: backbone)
                let pathsURL = outURL.deletingPathExtension().appendingPathExtension("paths.txt")
                let base = relativeTo.map { URL(fileURLWithPath: $0) }
                    ?? list.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
                    ?? (images.count == 1 ? URL(fileURLWithPath: images[0]) : nil)
                try files.map { relativePath($0, to: base) }.joined(separator: "\n").appending("\n")
                    .write(to: pathsURL, atomically: true, encoding: .utf8)
            }
            try saveNumPy(embedded, to: outURL)
            FileHandle.standardError.write(Data("wrote \(tokens.rawValue) embeddings \(embedded.shape) to \(out)\n".utf8))
        }

        /// `file` relative to `base` when inside it (with `/` separators), else its absolute path.
        private func relativePath(_ file: URL, to base: URL?) -> String {
            let path = file.standardizedFileURL.path
            guard let base else { return path }
            let prefix = base.standardizedFileURL.path + "/"
            return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
        }

        /// Runs the backbone over a preprocessed `[B, C, H, W]` array in batches.
        private func embedTensor(_ pixels: Tensor, with backbone: VisionTransformer) throws -> Tensor {
            let count = pixels.shape[0]
            let progress = ProgressBar(total: count, unit: "images")
            var parts: [Tensor] = []
            var start = 0
            while start < count {
                let end = min(count, start + batch)
                let slice = pixels.sliced(axis: 0, range: start..<end)
                parts.append(select(try backbone.forward(slice)))
                start = end
                progress.update(done: end)
            }
            progress.finish(done: count)
            return concatenated(parts, axis: 0)
        }

        /// Decodes, preprocesses and embeds image files in batches; the next batch is decoded
        /// while the current one runs through the backbone.
        private func embedImages(_ files: [URL], preprocessing: Preprocessing,
                                 with backbone: VisionTransformer) async throws -> Tensor {
            let progress = ProgressBar(total: files.count, unit: "images")
            let batches = stride(from: 0, to: files.count, by: batch).map { Array(files[$0..<min(files.count, $0 + batch)]) }
            var parts: [Tensor] = []
            var done = 0
            var pending: Task<[PreprocessedImage], Error>? = batches.first.map { first in
                Task { try await preprocessing.apply(toImagesAt: first) }
            }
            for index in batches.indices {
                let images = try await pending!.value
                pending = index + 1 < batches.count
                    ? Task { [next = batches[index + 1]] in try await preprocessing.apply(toImagesAt: next) }
                    : nil
                let side = preprocessing.size ?? backbone.configuration.imageSize
                var values: [Float] = []
                values.reserveCapacity(images.count * 3 * side * side)
                for image in images { values.append(contentsOf: image.values) }
                let pixels = Tensor(shape: [images.count, images[0].channels, images[0].height, images[0].width], scalars: values)
                parts.append(select(try backbone.forward(pixels)))
                done += images.count
                progress.update(done: done)
            }
            progress.finish(done: done)
            return concatenated(parts, axis: 0)
        }

        private func select(_ output: ViTOutput) -> Tensor {
            switch tokens {
            case .cls: output.classTokens
            case .mean: output.meanPatchTokens
            case .patch: output.patchTokens
            case .all: output.tokens
            }
        }
    }
}

/// A value written as a quoted YAML scalar, so paths with `:` or `#` survive.
func yamlScalar(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}
