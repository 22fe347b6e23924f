import ArgumentParser
import Foundation
import Imaging
import Models
import Tensor

extension XRBench {
    /// `xrbench embed`: runs a frozen DINOv2-family backbone over images and writes a `.npy` file.
    struct Embed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Embed radiographs with a frozen ViT from a Hugging Face model folder and write a NumPy .npy file.",
            discussion: """
            Images are padded to a square, scaled to [0, 1], replicated to 3 channels, resized with
            antialiased bilinear interpolation and normalised with ImageNet mean/std (or the model
            folder's preprocessor_config.json with --model-normalization). Rows follow the input
            order; folders are read in sorted path order, and OUT.paths.txt lists the image of each row.

            Examples:
              xrbench embed --model models/dinov2-base --images scans/ --out cls.npy
              xrbench embed --model models/rad-dino --list test.txt --tokens mean --resolution 224 --out mean.npy
              xrbench embed --model models/dinov2-base --tensor pixels.npy --tokens all --out tokens.npy
            """
        )

        /// Which tokens of the final-LayerNorm sequence to write.
        enum Tokens: String, ExpressibleByArgument, CaseIterable {
            case cls, patch, mean, all
        }

        @Option(name: .long, help: ArgumentHelp("Model folder with config.json and model.safetensors.", valueName: "DIR"))
        var model: String

        @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Image files or folders of PNG/JPEG files.", valueName: "PATH"))
        var images: [String] = []

        @Option(name: .long, help: ArgumentHelp("A text file with one image path per line.", valueName: "FILE"))
        var list: String?

        @Option(name: .long, help: ArgumentHelp("An already preprocessed float32 array [B, 3, H, W] (skips image loading).", valueName: "IN.npy"))
        var tensor: String?

        @Option(name: .long, help: "Square input size in pixels; a multiple of the patch size.")
        var resolution: Int = 518

        @Option(name: .long, help: "cls: [B, D]; mean: mean-pooled patch tokens [B, D]; patch: [B, N, D]; all: [B, T, D].")
        var tokens: Tokens = .cls

        @Option(name: .long, help: "Images per forward pass.")
        var batch: Int = 8

        @Flag(name: .long, help: "Normalise with the model folder's preprocessor_config.json mean/std instead of ImageNet's.")
        var modelNormalization = false

        @Option(name: .long, help: ArgumentHelp("Output .npy file.", valueName: "OUT.npy"))
        var out: String

        func validate() throws {
            let sources = [!images.isEmpty, list != nil, tensor != nil].filter { $0 }.count
            guard sources == 1 else {
                throw ValidationError("Give exactly one of --images, --list or --tensor.")
            }
            guard batch > 0 else { throw ValidationError("--batch must be positive, not \(batch).") }
            guard resolution > 0 else { throw ValidationError("--resolution must be positive, not \(resolution).") }
        }

        func run() async throws {
            let outURL = URL(fileURLWithPath: out)
            let outFolder = outURL.deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: outFolder) else {
                throw CommandError("\(out): the folder \(outFolder) does not exist; create it first")
            }
            let modelURL = URL(fileURLWithPath: model)
            let backbone = try VisionTransformer(contentsOf: modelURL)
            let patch = backbone.configuration.patchSize

            let embedded: Tensor
            if let tensor {
                let pixels = try loadNumPy(at: URL(fileURLWithPath: tensor))
                guard pixels.shape.count == 4, pixels.shape[1] == backbone.configuration.channelCount else {
                    throw CommandError("\(tensor): expected a float array [B, \(backbone.configuration.channelCount), H, W], found shape \(pixels.shape)")
                }
                guard pixels.shape[2] % patch == 0, pixels.shape[3] % patch == 0 else {
                    throw CommandError("\(tensor): height and width \(pixels.shape[2])×\(pixels.shape[3]) must be multiples of the patch size \(patch)")
                }
                embedded = try embedTensor(pixels, with: backbone)
            } else {
                let files = try list.map(readImageList) ?? collectImageFiles(images)
                guard resolution % patch == 0 else {
                    throw CommandError("--resolution \(resolution) is not a multiple of the model's patch size \(patch); try \(max(patch, resolution / patch * patch))")
                }
                var preprocessing = Preprocessing(size: resolution)
                if modelNormalization {
                    preprocessing = try preprocessing.loadingMeanStd(fromModelFolder: modelURL)
                }
                embedded = try await embedImages(files, preprocessing: preprocessing, with: backbone)
                let pathsURL = outURL.deletingPathExtension().appendingPathExtension("paths.txt")
                try files.map(\.path).joined(separator: "\n").appending("\n").write(to: pathsURL, atomically: true, encoding: .utf8)
            }
            try saveNumPy(embedded, to: outURL)
            FileHandle.standardError.write(Data("wrote \(tokens.rawValue) embeddings \(embedded.shape) to \(out)\n".utf8))
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
                let side = preprocessing.size ?? resolution
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
