/// The body parts the phantom generator draws.
public enum PhantomAnatomy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Thorax: lungs, heart, ribs, clavicles, spine; the only anatomy with findings.
    case chest
    /// Knee: distal femur with condyles, tibial plateau and shaft, fibula, patella.
    case knee
    /// Hand: carpals, five metacarpals, phalanges (thumb with two), distal radius and ulna.
    case hand
    /// Pelvis: iliac wings, sacrum, obturator rings, femoral heads and necks, bowel gas.
    case pelvis
    /// Foot: tarsals, calcaneus, talus, five metatarsals, toes.
    case foot
    /// Lumbar spine: stacked vertebral bodies with pedicles, spinous and transverse processes.
    case spine
}

/// The projection of a phantom radiograph.
public enum PhantomView: String, Sendable, Hashable, Codable, CaseIterable {
    /// Antero-posterior / postero-anterior.
    case frontal
    /// Side view.
    case lateral
}

/// A nodule placed relative to a lung field: `u`, `v` in the unit disk of that lung.
struct PhantomNodule: Sendable, Hashable {
    /// 0 for the patient's right lung (image left in a frontal view), 1 for the left.
    var lung: Int
    var u: Double
    var v: Double
    /// Standard deviation in anatomy units (image widths).
    var sigma: Double
    /// Peak added attenuation.
    var amplitude: Double
}

/// What a chest study shows; empty for other anatomies.
struct PhantomFindings: Sendable, Hashable {
    var nodules: [PhantomNodule] = []
    /// Lungs with an effusion (0 right, 1 left) and the fluid height as a fraction of the lung.
    var effusionLungs: [Int] = []
    var effusionHeight = 0.0
    var cardiomegaly = false
    /// Heart width scale: about 1 normally, about 1.4 with cardiomegaly.
    var heartScale = 1.0
}

/// The patient-level traits the drawing depends on.
struct PhantomSubject: Sendable, Hashable {
    var sex: Sex
    var age: Int

    /// Relative bone density: falls by up to 35% from age 40 to 90 (osteopenia), so age is
    /// visible in the images, as it is in real radiographs.
    var boneDensity: Double {
        1 - 0.35 * min(max(Double(age - 40) / 50, 0), 1)
    }
}
