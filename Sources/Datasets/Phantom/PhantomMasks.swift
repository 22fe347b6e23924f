/// The structures the phantom generator can write masks of, one bit each of its label maps.
///
/// A phantom label map (`masks/<id>.png`, 8-bit grey) stores per pixel the sum of `2^bit` over
/// the classes present there, since classes overlap (ribs lie over the lungs, and are bones).
struct PhantomMaskParts: OptionSet, Sendable, Hashable {
    let rawValue: UInt8

    /// Both lung fields (the lateral view's one superimposed field).
    static let lungs = PhantomMaskParts(rawValue: 1 << 0)
    /// The heart shadow.
    static let heart = PhantomMaskParts(rawValue: 1 << 1)
    /// Every bone of every anatomy (ribs and clavicles included).
    static let bones = PhantomMaskParts(rawValue: 1 << 2)
    /// The chest's ribs (posterior and anterior; the lateral view's faint ribs).
    static let ribs = PhantomMaskParts(rawValue: 1 << 3)
    /// The chest's clavicles.
    static let clavicles = PhantomMaskParts(rawValue: 1 << 4)
    /// The lead marker glyph.
    static let marker = PhantomMaskParts(rawValue: 1 << 5)
    /// Nodules: the disc within two standard deviations of each blob's centre.
    static let nodules = PhantomMaskParts(rawValue: 1 << 6)
}

/// The phantom's segmentation classes in plane order; class `k` is bit `k` of the label maps.
public let phantomMaskClasses = ["lungs", "heart", "bones", "ribs", "clavicles", "marker", "nodules"]

/// The folder, under the dataset's directory, of the phantom's label maps.
let phantomMaskFolder = "masks"
