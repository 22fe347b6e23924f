import Random

/// Splits a dataset into train, validation and test rows: official parts when the manifest has
/// them, otherwise a seeded patient-disjoint split stratified by label; then draws the training
/// fraction by patient and applies the subgroup filters.
///
/// The result depends only on `rows`, `encoding` and `configuration` (there is no backbone
/// input), so every model of an experiment sees the same split.
///
/// Rules, in order:
/// 1. Patients are ordered by id (not by row order) before anything random happens.
/// 2. Official parts are used when every row has one; a missing validation or test part is
///    carved out of the official training patients with `ratios`. Mixing rows with and without
///    an official part is an error.
/// 3. A generated split gives each patient a stratum — its rarest positive label (by patient
///    count), or "no positive label" — shuffles patients within strata (seeded), concatenates the
///    strata, and deals patients to parts by accumulated shares, so every stratum gets close to
///    its share of each part.
/// 4. Training fraction: all training patients are shuffled once per seed; the patients passing
///    the train filter, in that order, form the pool; the first `ceil(fraction × pool)` are kept.
///    For every label whose positive (or negative) samples are missing from that prefix, the
///    earliest pool patient that has one is added. Both steps only depend on the order, so the
///    sets are nested: for one seed, the 1% set lies inside the 10% set, inside the 100% set.
/// 5. Train and validation rows are those passing the train filter; test rows pass the test filter.
///
/// - Throws: `EvaluationError` for a fraction outside (0, 1], no rows, label values that do not
///   fit the encoding, inconsistent official parts, invalid ratios, or a subgroup that leaves a
///   part empty.
/// - Complexity: O(rows log rows).
public func makeSplit(rows: [ManifestRow], encoding: LabelEncoding, configuration: SplitConfiguration) throws -> DatasetSplit {
    guard configuration.fraction > 0, configuration.fraction <= 1, configuration.fraction.isFinite else {
        throw EvaluationError.invalidFraction(configuration.fraction)
    }
    guard !rows.isEmpty else { throw EvaluationError.empty(what: "manifest") }
    let ratios = try normalizedRatios(configuration.ratios)
    let positives = try positiveFlags(rows: rows, encoding: encoding)

    // Patients sorted by id; rows of each patient.
    var rowsOfPatient: [String: [Int]] = [:]
    for (index, row) in rows.enumerated() { rowsOfPatient[row.patientID, default: []].append(index) }
    let patients = rowsOfPatient.keys.sorted()

    var part: [String: SplitPart]
    let official = rows.filter { $0.officialPart != nil }.count
    if official == rows.count {
        part = try officialParts(rows: rows, patients: patients, rowsOfPatient: rowsOfPatient)
        let present = Set(part.values)
        let missing = SplitPart.allCases.filter { !present.contains($0) && $0 != .train }
        guard present.contains(.train) else {
            throw EvaluationError.inconsistentOfficialSplit(reason: "no row is marked train")
        }
        if !missing.isEmpty {
            // Carve the missing parts out of the official training patients.
            let trainPatients = patients.filter { part[$0] == .train }
            let shares = SplitPart.allCases.map { missing.contains($0) || $0 == .train ? ratios[partIndex($0)] : 0 }
            let carved = dealStratified(trainPatients, rowsOfPatient: rowsOfPatient, positives: positives,
                                        shares: shares, seed: configuration.seed)
            for (patient, newPart) in carved { part[patient] = newPart }
        }
    } else if official == 0 {
        part = dealStratified(patients, rowsOfPatient: rowsOfPatient, positives: positives,
                              shares: ratios, seed: configuration.seed)
    } else {
        throw EvaluationError.inconsistentOfficialSplit(
            reason: "\(official) of \(rows.count) rows have an official part; give every row one, or none")
    }

    // Filters.
    let passesTrain = try rows.map { try configuration.trainFilter.matches($0.attributes, sampleID: $0.sampleID) }
    let passesTest = try rows.map { try configuration.testFilter.matches($0.attributes, sampleID: $0.sampleID) }
    func rowsOf(_ wanted: SplitPart, passing passes: [Bool]) -> [Int] {
        rows.indices.filter { part[rows[$0].patientID] == wanted && passes[$0] }
    }
    let validation = rowsOf(.validation, passing: passesTrain)
    let test = rowsOf(.test, passing: passesTest)

    // Training fraction over the filtered pool, in one seeded patient order.
    var order = patients.filter { part[$0] == .train }
    var generator = SeededGenerator(seed: configuration.seed, stream: stableHash("training fraction"))
    generator.shuffle(&order)
    let pool = order.filter { patient in rowsOfPatient[patient]!.contains { passesTrain[$0] } }
    let prefixCount = pool.isEmpty ? 0 : max(1, Int((configuration.fraction * Double(pool.count)).rounded(.up)))
    var chosen = Set(pool.prefix(prefixCount))
    let labelNames = encoding.names
    var added = [Bool](repeating: false, count: labelNames.count)
    let prefixRows = pool.prefix(prefixCount).flatMap { rowsOfPatient[$0]!.filter { passesTrain[$0] } }
    for label in labelNames.indices {
        for wantPositive in [true, false] {
            let present = prefixRows.contains { positives[$0][label] == wantPositive }
            guard !present else { continue }
            let donor = pool.first { patient in
                rowsOfPatient[patient]!.contains { passesTrain[$0] && positives[$0][label] == wantPositive }
            }
            if let donor, !chosen.contains(donor) {
                chosen.insert(donor)
                added[label] = true
            }
        }
    }
    let train = rows.indices.filter { chosen.contains(rows[$0].patientID) && passesTrain[$0] }

    for (name, filter, indices) in [("train", configuration.trainFilter, train),
                                    ("validation", configuration.trainFilter, validation),
                                    ("test", configuration.testFilter, test)] where indices.isEmpty {
        if filter == .all { throw EvaluationError.empty(what: "\(name) set") }
        throw EvaluationError.emptySubgroup(filter: filter.description, part: name)
    }

    let support = labelNames.indices.map { label in
        LabelSupport(label: labelNames[label],
                     positives: train.filter { positives[$0][label] == true }.count,
                     negatives: train.filter { positives[$0][label] == false }.count,
                     patientAdded: added[label])
    }
    return DatasetSplit(train: train, validation: validation, test: test,
                        fractionPatientCount: prefixCount, availablePatientCount: pool.count,
                        support: support, usedOfficialSplit: official == rows.count)
}

private func partIndex(_ part: SplitPart) -> Int { SplitPart.allCases.firstIndex(of: part)! }

private func normalizedRatios(_ ratios: [Double]) throws -> [Double] {
    guard ratios.count == 3, ratios.allSatisfy({ $0 >= 0 && $0.isFinite }), ratios[0] > 0, ratios.reduce(0, +) > 0 else {
        throw EvaluationError.invalidParameter(name: "split ratios", value: "\(ratios)",
                                               reason: "need three non-negative shares (train, validation, test), train positive")
    }
    let total = ratios.reduce(0, +)
    return ratios.map { $0 / total }
}

/// Per row and label: true (positive), false (known negative) or nil (unknown).
private func positiveFlags(rows: [ManifestRow], encoding: LabelEncoding) throws -> [[Bool?]] {
    try rows.enumerated().map { index, row in
        guard row.labels.count == encoding.columns else {
            throw EvaluationError.lengthMismatch(what: "labels of sample '\(row.sampleID)'", expected: encoding.columns, actual: row.labels.count)
        }
        switch encoding {
        case let .multiLabel(names):
            return try zip(names, row.labels).map { name, value -> Bool? in
                if value.isNaN { return nil }
                guard value == 0 || value == 1 else {
                    throw EvaluationError.nonBinaryTarget(label: name, sampleIndex: index, value: value)
                }
                return value == 1
            }
        case let .multiClass(names):
            let value = row.labels[0]
            guard let classIndex = Int(exactly: value), names.indices.contains(classIndex) else {
                throw EvaluationError.invalidClassIndex(sampleIndex: index, value: Int(value.isFinite ? value : -1), classCount: names.count)
            }
            return names.indices.map { $0 == classIndex }
        }
    }
}

private func officialParts(rows: [ManifestRow], patients: [String], rowsOfPatient: [String: [Int]]) throws -> [String: SplitPart] {
    var part: [String: SplitPart] = [:]
    for patient in patients {
        let parts = Set(rowsOfPatient[patient]!.map { rows[$0].officialPart! })
        guard parts.count == 1, let only = parts.first else {
            throw EvaluationError.inconsistentOfficialSplit(
                reason: "patient '\(patient)' has rows in \(parts.map(\.rawValue).sorted().joined(separator: " and ")); "
                    + "an official split must keep each patient in one part")
        }
        part[patient] = only
    }
    return part
}

/// Deals patients to parts by `shares` (train, validation, test), stratified by each patient's
/// rarest positive label (see `makeSplit`).
private func dealStratified(_ patients: [String], rowsOfPatient: [String: [Int]], positives: [[Bool?]],
                            shares: [Double], seed: UInt64) -> [String: SplitPart] {
    let labelCount = positives.first?.count ?? 0
    var patientsPositive = [Int](repeating: 0, count: labelCount)
    var patientLabels: [String: [Int]] = [:]
    for patient in patients {
        let labels = (0..<labelCount).filter { label in rowsOfPatient[patient]!.contains { positives[$0][label] == true } }
        patientLabels[patient] = labels
        for label in labels { patientsPositive[label] += 1 }
    }
    var strata: [Int: [String]] = [:]
    for patient in patients {
        // Rarest positive label; ties by label index. -1: no positive label.
        let stratum = patientLabels[patient]!.min { (patientsPositive[$0], $0) < (patientsPositive[$1], $1) } ?? -1
        strata[stratum, default: []].append(patient)
    }
    var generator = SeededGenerator(seed: seed, stream: stableHash("patient split"))
    var dealt: [String: SplitPart] = [:]
    let total = shares.reduce(0, +)
    var credit = shares.map { $0 / total / 2 }  // start half-way so small strata still get a share
    for stratum in strata.keys.sorted() {
        var members = strata[stratum]!
        generator.shuffle(&members)
        for patient in members {
            for index in credit.indices { credit[index] += shares[index] / total }
            // The part owed the most credit gets the patient.
            let best = credit.indices.max { credit[$0] < credit[$1] }!
            credit[best] -= 1
            dealt[patient] = SplitPart.allCases[best]
        }
    }
    return dealt
}
