/// Settings of the phantom radiograph generator; the defaults make the demo dataset.
///
/// Every probability is per image unless it says otherwise. See `docs/PHANTOM.md`.
public struct PhantomOptions: Sendable, Hashable, Codable {
    /// Width and height of every image in pixels (square; at least 32).
    public var imageSize = 256
    /// Strength `s` in 0...1 of the documented subgroup effect: nodules in female patients
    /// have their peak contrast multiplied by `1 - 0.6 s` and their size by `1 - 0.3 s`, so
    /// they are harder to see. 0 switches the effect off.
    public var subgroupEffect = 0.6
    /// Share of images written as 16-bit PNGs (the rest are 8-bit).
    public var sixteenBitFraction = 0.5
    /// Probability that a lead marker ("L" or "R", equally likely) is drawn in a corner.
    public var markerProbability = 0.5
    /// Probability that an image is mirrored left-right.
    public var mirrorProbability = 0.3
    /// Probability that an image is rotated; rotations of 90, 180 and 270 degrees are equally likely.
    public var rotationProbability = 0.45
    /// Probability that a single-image study is lateral (two-image studies have one of each view).
    public var lateralProbability = 0.35
    /// Probability that a study has two images (frontal and lateral) rather than one.
    public var twoViewStudyProbability = 0.35
    /// Share of studies that are chest radiographs; the rest are spread evenly over the other anatomies.
    public var chestFraction = 0.4
    /// Per chest study: probability of one to three nodules (balanced, so that a head has as many
    /// positive as negative chest images to learn nodule presence from).
    public var noduleProbability = 0.5
    /// Per chest study: probability of a pleural effusion (one or both sides).
    public var effusionProbability = 0.3
    /// Per chest study: probability of an enlarged heart.
    public var cardiomegalyProbability = 0.3
    /// Share of female patients.
    public var femaleFraction = 0.5
    /// Youngest and oldest patient age in years (uniform).
    public var minimumAge = 18
    /// See `minimumAge`.
    public var maximumAge = 90
    /// Most studies per patient (each patient gets 1...this many, uniformly).
    public var maximumStudiesPerPatient = 3

    /// The defaults.
    public init() {}

    /// Checks every setting.
    /// - Throws: `DatasetError.invalidOption` naming the first setting out of range.
    public func validate() throws(DatasetError) {
        guard (32...4096).contains(imageSize) else {
            throw .invalidOption(name: "imageSize", value: String(imageSize), reason: "must be from 32 to 4096 pixels")
        }
        let probabilities: [(String, Double)] = [
            ("subgroupEffect", subgroupEffect), ("sixteenBitFraction", sixteenBitFraction),
            ("markerProbability", markerProbability), ("mirrorProbability", mirrorProbability),
            ("rotationProbability", rotationProbability), ("lateralProbability", lateralProbability),
            ("twoViewStudyProbability", twoViewStudyProbability), ("chestFraction", chestFraction),
            ("noduleProbability", noduleProbability), ("effusionProbability", effusionProbability),
            ("cardiomegalyProbability", cardiomegalyProbability), ("femaleFraction", femaleFraction),
        ]
        for (name, value) in probabilities where !(0...1).contains(value) {
            throw .invalidOption(name: name, value: String(value), reason: "must be between 0 and 1")
        }
        guard minimumAge >= 1, minimumAge <= maximumAge, maximumAge <= 120 else {
            throw .invalidOption(name: "minimumAge...maximumAge", value: "\(minimumAge)...\(maximumAge)",
                                 reason: "ages must satisfy 1 <= minimum <= maximum <= 120")
        }
        guard (1...20).contains(maximumStudiesPerPatient) else {
            throw .invalidOption(name: "maximumStudiesPerPatient", value: String(maximumStudiesPerPatient),
                                 reason: "must be from 1 to 20")
        }
    }
}
