import Random
import Testing
@testable import Evaluation

@Suite struct SplitTests {
    static let encoding = LabelEncoding.multiLabel(["common", "rare", "never"])

    /// 400 patients with 1–3 images; "rare" in about 2% of patients, "never" in none.
    static func makeManifest(seed: UInt64 = 11, official: Bool = false) -> [ManifestRow] {
        var generator = SeededGenerator(seed: seed)
        var rows: [ManifestRow] = []
        for patient in 0..<400 {
            let images = 1 + generator.nextIndex(below: 3)
            let sex = generator.nextIndex(below: 2) == 0 ? "F" : "M"
            let age = 18 + generator.nextIndex(below: 70)
            let rare = generator.nextUnitDouble() < 0.02
            let part: SplitPart = patient % 10 == 0 ? .test : (patient % 10 == 1 ? .validation : .train)
            for image in 0..<images {
                let common: Double = generator.nextUnitDouble() < 0.4 ? 1 : 0
                let unknown = generator.nextUnitDouble() < 0.05
                rows.append(ManifestRow(
                    sampleID: "p\(patient)-i\(image)", patientID: "p\(patient)",
                    labels: [unknown ? .nan : common, rare ? 1 : 0, 0],
                    attributes: ["sex": sex, "age": "\(age)", "view": image == 0 ? "PA" : "LATERAL"],
                    officialPart: official ? part : nil))
            }
        }
        return rows
    }

    static func patients(_ rows: [ManifestRow], _ indices: [Int]) -> Set<String> { Set(indices.map { rows[$0].patientID }) }
    static func samples(_ rows: [ManifestRow], _ indices: [Int]) -> Set<String> { Set(indices.map { rows[$0].sampleID }) }

    @Test func generatedSplitIsPatientDisjointAndCoversEveryRow() throws {
        let rows = Self.makeManifest()
        let split = try makeSplit(rows: rows, encoding: Self.encoding, configuration: SplitConfiguration(seed: 1))
        let train = Self.patients(rows, split.train), validation = Self.patients(rows, split.validation), test = Self.patients(rows, split.test)
        #expect(train.isDisjoint(with: validation) && train.isDisjoint(with: test) && validation.isDisjoint(with: test))
        #expect(split.train.count + split.validation.count + split.test.count == rows.count)
        #expect(!split.usedOfficialSplit)
        // Shares close to 70/10/20 of patients.
        #expect(abs(Double(test.count) / 400 - 0.2) < 0.02)
        #expect(abs(Double(validation.count) / 400 - 0.1) < 0.02)
        // Stratified: the rare label's patients are spread over the parts like everyone else.
        let rarePatients = Set(rows.filter { $0.labels[1] == 1 }.map(\.patientID))
        #expect(!rarePatients.isDisjoint(with: test) && !rarePatients.isDisjoint(with: train))
    }

    @Test func splitDependsOnlyOnManifestFractionSeedAndFilter() throws {
        // There is no backbone input: embeddings of any model play no part. The split must also
        // not depend on the order the manifest rows come in.
        let rows = Self.makeManifest()
        var shuffled = rows
        var generator = SeededGenerator(seed: 99)
        generator.shuffle(&shuffled)
        for fraction in [0.01, 0.1, 1.0] {
            let configuration = SplitConfiguration(seed: 3, fraction: fraction, trainFilter: .sex("F"))
            let a = try makeSplit(rows: rows, encoding: Self.encoding, configuration: configuration)
            let b = try makeSplit(rows: shuffled, encoding: Self.encoding, configuration: configuration)
            let again = try makeSplit(rows: rows, encoding: Self.encoding, configuration: configuration)
            #expect(a == again)
            #expect(Self.samples(rows, a.train) == Self.samples(shuffled, b.train))
            #expect(Self.samples(rows, a.validation) == Self.samples(shuffled, b.validation))
            #expect(Self.samples(rows, a.test) == Self.samples(shuffled, b.test))
        }
        let other = try makeSplit(rows: rows, encoding: Self.encoding, configuration: SplitConfiguration(seed: 4))
        let first = try makeSplit(rows: rows, encoding: Self.encoding, configuration: SplitConfiguration(seed: 3))
        #expect(other.test != first.test)
    }

    @Test(arguments: [SubgroupFilter.all, .sex("M")])
    func fractionsAreNestedPerSeed(filter: SubgroupFilter) throws {
        let rows = Self.makeManifest()
        for seed: UInt64 in 0..<5 {
            let sets = try [0.01, 0.1, 0.5, 1.0].map { fraction in
                try makeSplit(rows: rows, encoding: Self.encoding,
                              configuration: SplitConfiguration(seed: seed, fraction: fraction, trainFilter: filter))
            }
            for (smaller, larger) in zip(sets, sets.dropFirst()) {
                #expect(Set(smaller.train).isSubset(of: Set(larger.train)), "seed \(seed)")
                #expect(smaller.validation == larger.validation && smaller.test == larger.test)
            }
            // 100% keeps every training patient of the subgroup.
            #expect(sets.last!.fractionPatientCount == sets.last!.availablePatientCount)
        }
    }

    @Test func smallFractionStillHasAPositiveAndReportsWhatCannotTrain() throws {
        let rows = Self.makeManifest()
        let split = try makeSplit(rows: rows, encoding: Self.encoding, configuration: SplitConfiguration(seed: 2, fraction: 0.01))
        let rare = try #require(split.support.first { $0.label == "rare" })
        #expect(rare.positives >= 1)
        #expect(rare.isTrainable)
        #expect(split.fractionPatientCount == Int((0.01 * Double(split.availablePatientCount)).rounded(.up)))
        let never = try #require(split.support.first { $0.label == "never" })
        #expect(!never.isTrainable)
        #expect(split.untrainableLabels.map(\.label) == ["never"])
        // Unknown (NaN) labels count neither way.
        let common = try #require(split.support.first { $0.label == "common" })
        let known = split.train.filter { !rows[$0].labels[0].isNaN }.count
        #expect(common.positives + common.negatives == known)
    }

    @Test func officialSplitIsUsedAndMissingPartsAreCarved() throws {
        let rows = Self.makeManifest(official: true)
        let split = try makeSplit(rows: rows, encoding: Self.encoding, configuration: SplitConfiguration(seed: 8))
        #expect(split.usedOfficialSplit)
        #expect(split.test.allSatisfy { rows[$0].officialPart == .test })
        #expect(split.validation.allSatisfy { rows[$0].officialPart == .validation })
        // Without an official validation part, validation patients come from official training patients.
        let noValidation = rows.filter { $0.officialPart != .validation }
        let carved = try makeSplit(rows: noValidation, encoding: Self.encoding, configuration: SplitConfiguration(seed: 8))
        #expect(carved.test.allSatisfy { noValidation[$0].officialPart == .test })
        #expect(!carved.validation.isEmpty && carved.validation.allSatisfy { noValidation[$0].officialPart == .train })
        #expect(Self.patients(noValidation, carved.validation).isDisjoint(with: Self.patients(noValidation, carved.train)))
        // Mixed rows are an error.
        var mixed = rows
        mixed[0].officialPart = nil
        #expect(throws: EvaluationError.self) {
            try makeSplit(rows: mixed, encoding: Self.encoding, configuration: SplitConfiguration(seed: 8))
        }
    }

    @Test func subgroupFiltersSelectTrainAndTestSets() throws {
        let rows = Self.makeManifest()
        let configuration = SplitConfiguration(seed: 5, trainFilter: .sex("m"), testFilter: try .ageGroup("elderly"))
        let split = try makeSplit(rows: rows, encoding: Self.encoding, configuration: configuration)
        #expect(split.train.allSatisfy { rows[$0].attributes["sex"] == "M" })
        #expect(split.validation.allSatisfy { rows[$0].attributes["sex"] == "M" })
        #expect(split.test.allSatisfy { Int(rows[$0].attributes["age"]!)! >= 60 })
        // The test subgroup is a subset of the unfiltered test set (same base split).
        let all = try makeSplit(rows: rows, encoding: Self.encoding, configuration: SplitConfiguration(seed: 5))
        #expect(Set(split.test).isSubset(of: Set(all.test)))
        // Configurable bins and view filters.
        let bins = AgeBins(bins: [.init(name: "under50", lower: 0, upper: 50), .init(name: "over50", lower: 50, upper: .infinity)])
        let young = try SubgroupFilter.ageGroup("under50", bins: bins)
        #expect(try young.matches(["age": "49.5"], sampleID: "s"))
        #expect(try !young.matches(["age": "50"], sampleID: "s"))
        #expect(try !young.matches([:], sampleID: "s"))
        #expect(try SubgroupFilter.view("pa").matches(["view": "PA"], sampleID: "s"))
        #expect(throws: EvaluationError.self) { try SubgroupFilter.ageGroup("teen") }
        #expect(throws: EvaluationError.self) { try young.matches(["age": "old"], sampleID: "s") }
    }

    @Test func badSplitInputsThrow() {
        let rows = Self.makeManifest()
        for fraction in [0, -0.1, 1.01, .nan] {
            #expect(throws: EvaluationError.self) {
                try makeSplit(rows: rows, encoding: Self.encoding, configuration: SplitConfiguration(seed: 0, fraction: fraction))
            }
        }
        #expect(throws: EvaluationError.emptySubgroup(filter: "sex in {X}", part: "train")) {
            try makeSplit(rows: rows, encoding: Self.encoding, configuration: SplitConfiguration(seed: 0, trainFilter: .sex("X")))
        }
        var badLabel = rows
        badLabel[3].labels[0] = -1  // CheXpert "uncertain" not mapped
        #expect(throws: EvaluationError.self) {
            try makeSplit(rows: badLabel, encoding: Self.encoding, configuration: SplitConfiguration(seed: 0))
        }
        #expect(throws: EvaluationError.empty(what: "manifest")) {
            try makeSplit(rows: [], encoding: Self.encoding, configuration: SplitConfiguration(seed: 0))
        }
        let multiClass = [ManifestRow(sampleID: "a", patientID: "a", labels: [4])]
        #expect(throws: EvaluationError.self) {
            try makeSplit(rows: multiClass, encoding: .multiClass(["x", "y"]), configuration: SplitConfiguration(seed: 0))
        }
    }
}
