import Foundation
import Imaging

/// One sample's segmentation masks as binary planes, one per class of the manifest.
public struct SampleMasks: Sendable, Hashable {
    /// Class names, in plane order (the manifest's `segmentation.classes`).
    public let classes: [String]
    /// Rows of each plane.
    public let height: Int
    /// Pixels per row of each plane.
    public let width: Int
    /// `[classes, height, width]`, row-major: 1 where the pixel belongs to the class, else 0
    /// (the layout `SegmentationSamples.copyMasks` takes).
    public let planes: [UInt8]

    /// A copy of the plane of class `index`, row-major `height * width`.
    public func plane(_ index: Int) -> [UInt8] {
        precondition(classes.indices.contains(index), "class \(index) outside 0..<\(classes.count)")
        let size = height * width
        return Array(planes[(index * size)..<((index + 1) * size)])
    }

    /// Foreground pixels per class.
    public var pixelCounts: [Int] {
        let size = height * width
        return classes.indices.map { index in planes[(index * size)..<((index + 1) * size)].reduce(0) { $0 + Int($1) } }
    }
}

extension Manifest {
    /// Reads a sample's masks: every class's plane, at the masks' own size or resampled to
    /// `size` by nearest neighbour exactly as `torch.nn.functional.interpolate(mode="nearest")`
    /// (`NearestResampling`).
    ///
    /// The masks' own size is that of the sample's mask files, run-length or polygon masks,
    /// which must all agree; a sample whose masks are all empty takes its image's size (read
    /// from the image header) unless `size` is given.
    ///
    /// With `padToSquare`, the masks are first zero-padded to a square as `Preprocessing` pads
    /// images (the shorter side symmetrically, an odd pixel to the right or bottom), so planes
    /// line up with the patch tokens of an image embedded with its default preprocessing. A
    /// mask at another resolution than its image (SCR's 1024² masks of 2048² radiographs) pads
    /// in its own pixels: the same field of view, to within a mask pixel.
    ///
    /// - Parameters:
    ///   - sample: a sample of this manifest.
    ///   - size: the planes' size; nil for the masks' own (padded to a square with `padToSquare`).
    ///   - padToSquare: pad to a square before resampling, as images are.
    ///   - maximumPixelCount: mask files declaring more pixels are refused, and so is a `size` of more.
    /// - Throws: `MaskError` naming the file, sample and class: no segmentation in the manifest,
    ///   a missing or unreadable mask file (JPEG included), a colour file read as a label map,
    ///   masks of different sizes, an unreadable image (all-empty masks at their own size).
    /// - Complexity: O(pixels of the mask files + classes × output pixels).
    public func masks(of sample: Sample, size: MaskSize? = nil, padToSquare: Bool = false,
                      maximumPixelCount: Int = defaultMaximumPixelCount) throws(MaskError) -> SampleMasks {
        let loaded = try loadMasks(of: sample, maximumPixelCount: maximumPixelCount)
        if let size, size.width < 1 || size.height < 1 || size.width > maximumPixelCount / size.height {
            throw .invalidSize(height: size.height, width: size.width)
        }
        func padded(_ size: MaskSize) -> MaskSize {
            padToSquare ? MaskSize(width: max(size.width, size.height), height: max(size.width, size.height)) : size
        }
        let output: MaskSize
        if let size {
            output = size
        } else if let native = loaded.size {
            output = padded(native)
        } else {
            let url = imageURL(of: sample)
            do {
                let dimensions = try imageDimensions(at: url, maximumPixelCount: maximumPixelCount)
                output = padded(MaskSize(width: dimensions.width, height: dimensions.height))
            } catch {
                throw .unreadableImage(path: url.path, sampleID: sample.id, reason: "\(error)")
            }
        }
        let pixels = output.width * output.height
        var planes = [UInt8](repeating: 0, count: loaded.sources.count * pixels)
        guard let native = loaded.size else { return SampleMasks(classes: loaded.classes, height: output.height, width: output.width, planes: planes) }
        // Per output row (column), the mask row (column) it reads; -1 for padding.
        let square = padded(native)
        func sources(native: Int, padded: Int, output: Int) -> [Int] {
            let offset = (padded - native) / 2
            return NearestResampling.sourceIndices(inputSize: padded, outputSize: output).map { index in
                index - offset >= 0 && index - offset < native ? index - offset : -1
            }
        }
        let rows = sources(native: native.height, padded: square.height, output: output.height)
        let columns = sources(native: native.width, padded: square.width, output: output.width)
        planes.withUnsafeMutableBufferPointer { planes in
            for (index, source) in loaded.sources.enumerated() {
                let base = index * pixels
                switch source {
                case .empty:
                    continue
                case .raster(let raster, let rule):
                    raster.values.withUnsafeBufferPointer { values in
                        for (outputRow, row) in rows.enumerated() where row >= 0 {
                            let sourceRow = row * native.width, outputBase = base + outputRow * output.width
                            for (outputColumn, column) in columns.enumerated() where column >= 0 && rule.contains(values[sourceRow + column]) {
                                planes[outputBase + outputColumn] = 1
                            }
                        }
                    }
                case .runLength(let mask):
                    let plane = mask.plane()
                    for (outputRow, row) in rows.enumerated() where row >= 0 {
                        let sourceRow = row * native.width, outputBase = base + outputRow * output.width
                        for (outputColumn, column) in columns.enumerated() where column >= 0 {
                            planes[outputBase + outputColumn] = plane[sourceRow + column]
                        }
                    }
                case .polygons(let mask):
                    var line = [UInt8](repeating: 0, count: native.width)
                    for (outputRow, row) in rows.enumerated() where row >= 0 {
                        for index in line.indices { line[index] = 0 }
                        for span in mask.spans(ofRow: row) { for column in span { line[column] = 1 } }
                        let outputBase = base + outputRow * output.width
                        for (outputColumn, column) in columns.enumerated() where column >= 0 { planes[outputBase + outputColumn] = line[column] }
                    }
                }
            }
        }
        return SampleMasks(classes: loaded.classes, height: output.height, width: output.width, planes: planes)
    }

    /// Foreground pixels of each class of a sample at the masks' own size, without resampling
    /// (run-length and polygon masks are counted without drawing them).
    /// - Throws: `MaskError` as `masks(of:size:maximumPixelCount:)`, except for the image size,
    ///   which counting does not need.
    public func maskPixelCounts(of sample: Sample, maximumPixelCount: Int = defaultMaximumPixelCount) throws(MaskError) -> [Int] {
        try loadMasks(of: sample, maximumPixelCount: maximumPixelCount).sources.map { source in
            switch source {
            case .empty: 0
            case .raster(let raster, let rule): raster.values.reduce(0) { $0 + (rule.contains($1) ? 1 : 0) }
            case .runLength(let mask): mask.pixelCount
            case .polygons(let mask): mask.pixelCount
            }
        }
    }

    /// A sample's mask sources with their files decoded (each file once) and their common size.
    private func loadMasks(of sample: Sample, maximumPixelCount: Int) throws(MaskError) -> LoadedMasks {
        guard let segmentation else { throw .noSegmentation(dataset: dataset) }
        var rasters: [String: MaskRaster] = [:]
        var sources: [LoadedMasks.Source] = []
        var size: (size: MaskSize, from: String)?
        for name in segmentation.classes {
            let source = sample.masks?[name] ?? .empty
            let loaded: LoadedMasks.Source
            let described: String
            switch source {
            case .empty:
                sources.append(.empty)
                continue
            case .file(let path, let rule):
                let raster: MaskRaster
                if let known = rasters[path] {
                    raster = known
                } else {
                    raster = try decode(path, sample: sample, className: name, maximumPixelCount: maximumPixelCount)
                    rasters[path] = raster
                }
                if raster.isColour && rule.readsValues { throw .colourLabelMap(path: maskURL(path).path, className: name) }
                loaded = .raster(raster, rule)
                described = maskURL(path).path
            case .runLength(let mask):
                loaded = .runLength(mask)
                described = "(run-length encoded)"
            case .polygons(let mask):
                loaded = .polygons(mask)
                described = "(polygons)"
            }
            let own = loaded.size!
            if let first = size {
                guard own == first.size else {
                    throw .sizeMismatch(sampleID: sample.id, className: name, source: described, size: own, expected: first.size,
                                        expectedFrom: first.from)
                }
            } else {
                size = (own, "the mask of class \(name) \(described)")
            }
            sources.append(loaded)
        }
        return LoadedMasks(classes: segmentation.classes, sources: sources, size: size?.size)
    }

    private func decode(_ path: String, sample: Sample, className: String, maximumPixelCount: Int) throws(MaskError) -> MaskRaster {
        let url = maskURL(path)
        do {
            return try decodeMaskRaster(at: url, maximumPixelCount: maximumPixelCount)
        } catch ImageError.fileNotFound {
            throw .missingFile(path: url.path, sampleID: sample.id, className: className)
        } catch {
            throw .unreadableFile(path: url.path, sampleID: sample.id, className: className, reason: "\(error)")
        }
    }
}

/// A sample's masks ready to draw: decoded files, run-length and polygon masks, and their size.
private struct LoadedMasks {
    enum Source {
        case empty
        case raster(MaskRaster, MaskPixelRule)
        case runLength(RunLengthMask)
        case polygons(PolygonMask)

        var size: MaskSize? {
            switch self {
            case .empty: nil
            case .raster(let raster, _): MaskSize(width: raster.width, height: raster.height)
            case .runLength(let mask): MaskSize(width: mask.width, height: mask.height)
            case .polygons(let mask): MaskSize(width: mask.width, height: mask.height)
            }
        }
    }

    let classes: [String]
    let sources: [Source]
    let size: MaskSize?
}
