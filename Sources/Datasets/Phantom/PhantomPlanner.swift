import Random

/// Decides every label of every phantom image from the seed, before anything is drawn.
///
/// Planning is sequential and cheap; each plan carries its own image seed, so images can
/// then be drawn in any order, or in parallel, and still come out bit-identical.
func planPhantomDataset(count: Int, seed: UInt64, options: PhantomOptions) -> [PhantomImagePlan] {
    var random = SplitMix64(seed: seed)
    var plans: [PhantomImagePlan] = []
    plans.reserveCapacity(count)
    var patientNumber = 0
    let others = PhantomAnatomy.allCases.filter { $0 != .chest }
    let anatomyWeights = [options.chestFraction] + others.map { _ in (1 - options.chestFraction) / Double(others.count) }
    while plans.count < count {
        patientNumber += 1
        let patientID = "P" + zeroPadded(patientNumber, width: 5)
        let subject = PhantomSubject(sex: random.chance(options.femaleFraction) ? .female : .male,
                                     age: random.integer(options.minimumAge...options.maximumAge))
        let studyCount = random.integer(1...options.maximumStudiesPerPatient)
        for studyNumber in 1...studyCount where plans.count < count {
            let studyID = patientID + "_S" + String(studyNumber)
            let anatomy = random.pick([.chest] + others, weights: anatomyWeights)
            let findings = anatomy == .chest ? planFindings(subject: subject, options: options, random: &random) : PhantomFindings()
            let views: [PhantomView] = random.chance(options.twoViewStudyProbability)
                ? [.frontal, .lateral]
                : [random.chance(options.lateralProbability) ? .lateral : .frontal]
            for (imageNumber, view) in views.enumerated() where plans.count < count {
                let sampleID = studyID + "_" + String(imageNumber + 1)
                let rotation = random.chance(options.rotationProbability) ? 90 * random.integer(1...3) : 0
                let mirrored = random.chance(options.mirrorProbability)
                let markerLetter: String? = random.chance(options.markerProbability) ? (random.chance(0.5) ? "L" : "R") : nil
                let markerCorner = random.integer(0...3)
                let bitDepth = random.chance(options.sixteenBitFraction) ? 16 : 8
                plans.append(PhantomImagePlan(
                    sampleID: sampleID, imagePath: "images/" + sampleID + ".png", patientID: patientID, studyID: studyID,
                    subject: subject, anatomy: anatomy, view: view, rotation: rotation, mirrored: mirrored,
                    markerLetter: markerLetter, markerCorner: markerCorner, findings: findings, bitDepth: bitDepth,
                    imageSeed: random.next()))
            }
        }
    }
    return plans
}

/// Chest findings of one study, with the subgroup effect applied to nodules.
private func planFindings(subject: PhantomSubject, options: PhantomOptions, random: inout SplitMix64) -> PhantomFindings {
    var findings = PhantomFindings()
    if random.chance(options.noduleProbability) {
        // The documented subgroup effect: fainter, smaller nodules in female patients.
        let isAffected = subject.sex == .female
        let contrast = isAffected ? 1 - 0.6 * options.subgroupEffect : 1
        let size = isAffected ? 1 - 0.3 * options.subgroupEffect : 1
        for _ in 0..<random.integer(1...3) {
            var u = 0.0, v = 0.0
            repeat {
                u = random.uniform(-1...1)
                v = random.uniform(-1...1)
            } while u * u + v * v > 1
            findings.nodules.append(PhantomNodule(lung: random.integer(0...1), u: u, v: v,
                                                  sigma: random.uniform(0.035...0.05) * size,
                                                  amplitude: random.uniform(1.5...2.2) * contrast))
        }
    }
    if random.chance(options.effusionProbability) {
        findings.effusionLungs = random.chance(0.3) ? [0, 1] : [random.integer(0...1)]
        findings.effusionHeight = random.uniform(0.12...0.3)
    }
    findings.cardiomegaly = random.chance(options.cardiomegalyProbability)
    findings.heartScale = findings.cardiomegaly ? random.uniform(1.35...1.55) : random.uniform(0.85...1.0)
    return findings
}

/// `value` in decimal with leading zeros to `width` digits.
func zeroPadded(_ value: Int, width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
