/// Checks across a manifest's rows for facts that contradict each other. Subgroup membership
/// (sex, age bins) and patient-disjoint splits are decided from these facts, so contradictions
/// are reported, with file, line and patient, when the manifest is made:
///
/// - **errors** (thrown): one sample listed twice (`Manifest.init`), one image file under two
///   ids of *different* patients (a patient-disjoint split could put it in training and test);
/// - **warnings** (`Manifest.issues`, recorded in the database): one image file under two ids
///   of the same patient (it is counted twice); a patient whose rows disagree on sex; ages in
///   one study further apart than `studyAgeTolerance` years; ages in one patient's rows further
///   apart than `patientAgeSpanTolerance` years. A warning leaves the data as the file says it,
///   each row in the subgroup its own cells give, since the file may be right and the
///   researcher is told.
public enum ManifestConsistency {
    /// Ages within one study (one visit) may differ by this many years (age at the visit,
    /// rounded differently in different rows), no more.
    public static let studyAgeTolerance = 1
    /// Ages across one patient's rows may span this many years, no more. CheXpert's 223,414
    /// rows (Stanford, 2002–2017) span at most 14 years per patient, NIH ChestX-ray14's
    /// 112,120 at most 14 (both measured on the real label files); a longer span is more likely
    /// a wrong cell than a 20-year follow-up.
    public static let patientAgeSpanTolerance = 20

    /// The warnings about `samples` (sorted by id, ids unique).
    /// - Parameters:
    ///   - origins: where each sample was read, parallel to `samples`, when known.
    ///   - source: the file named when an origin is not known.
    /// - Throws: `DatasetError.imageOfTwoPatients` for an image listed for two patients.
    static func issues(of samples: [Sample], origins: [SourceLine]?, source: String) throws(DatasetError) -> [DatasetIssue] {
        func place(_ index: Int) -> String {
            origins.map { $0[index].description } ?? "\(source), sample \"\(samples[index].id)\""
        }
        func issue(_ index: Int, _ message: String) -> DatasetIssue {
            DatasetIssue(sampleID: samples[index].id, patientID: samples[index].patientID, file: origins?[index].file ?? source,
                         line: origins?[index].line, message: message)
        }
        var issues: [DatasetIssue] = []

        // The same image under two ids (ids are unique, so only where a path differs from its id).
        if samples.contains(where: { $0.imagePath != $0.id }) {
            var firstOfImage: [String: Int] = [:]
            firstOfImage.reserveCapacity(samples.count)
            for (index, sample) in samples.enumerated() {
                guard let first = firstOfImage.updateValue(index, forKey: sample.imagePath) else { continue }
                firstOfImage[sample.imagePath] = first
                if samples[first].patientID != sample.patientID {
                    throw .imageOfTwoPatients(imagePath: sample.imagePath,
                                              first: "\"\(samples[first].id)\" of patient \(samples[first].patientID) (\(place(first)))",
                                              second: "\"\(sample.id)\" of patient \(sample.patientID) (\(place(index)))")
                }
                issues.append(issue(index, "image \"\(sample.imagePath)\" is also listed as \"\(samples[first].id)\" (\(place(first))); "
                                    + "it counts twice"))
            }
        }

        // Sex and age, per patient and per study.
        struct Range {
            var lowest: (age: Int, index: Int)
            var highest: (age: Int, index: Int)
            mutating func add(_ age: Int, _ index: Int) {
                if age < lowest.age { lowest = (age, index) }
                if age > highest.age { highest = (age, index) }
            }
            var span: Int { highest.age - lowest.age }
        }
        var sexOfPatient: [String: (sex: Sex, index: Int)] = [:]
        var sexReported: Set<String> = []
        var agesOfPatient: [String: Range] = [:]
        var agesOfStudy: [String: Range] = [:]
        for (index, sample) in samples.enumerated() {
            let patient = sample.patientID
            if let sex = sample.sex {
                if let first = sexOfPatient[patient] {
                    if first.sex != sex && sexReported.insert(patient).inserted {
                        issues.append(issue(index, "patient \(patient) is \(sex.rawValue) in this row but \(first.sex.rawValue) "
                                            + "in \(place(first.index)); the patient's images fall into both sex subgroups"))
                    }
                } else {
                    sexOfPatient[patient] = (sex, index)
                }
            }
            if let age = sample.age {
                agesOfPatient[patient, default: Range(lowest: (age, index), highest: (age, index))].add(age, index)
                agesOfStudy[patient + "\u{0}" + sample.studyID, default: Range(lowest: (age, index), highest: (age, index))].add(age, index)
            }
        }
        var studiesReported: Set<String> = []
        for (_, range) in agesOfStudy.sorted(by: { $0.key < $1.key }) where range.span > studyAgeTolerance {
            let sample = samples[range.highest.index]
            studiesReported.insert(sample.patientID)
            issues.append(issue(range.highest.index, "patient \(sample.patientID) is \(range.highest.age) in this row but "
                                + "\(range.lowest.age) in \(place(range.lowest.index)), in the same study \(sample.studyID) "
                                + "(more than \(studyAgeTolerance) year apart)"))
        }
        for (patient, range) in agesOfPatient.sorted(by: { $0.key < $1.key })
        where range.span > patientAgeSpanTolerance && !studiesReported.contains(patient) {
            issues.append(issue(range.highest.index, "patient \(patient) is \(range.highest.age) in this row but "
                                + "\(range.lowest.age) in \(place(range.lowest.index)): \(range.span) years apart, more than the "
                                + "\(patientAgeSpanTolerance) one patient's studies are expected to span"))
        }
        return issues
    }
}
