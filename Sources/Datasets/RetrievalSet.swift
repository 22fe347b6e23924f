import Foundation

/// The retrieval-set adapter: a list of query and candidate images with their class, such as
/// the CheXpert 8×200 set (200 images for each of eight findings) used for Table 1.
///
/// File format (CSV, RFC 4180, header required):
///
///     path,role,class
///     CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg,query,Atelectasis
///     CheXpert-v1.0-small/train/patient00005/study2/view1_frontal.jpg,candidate,Edema
///
/// - `path`: the image path as in CheXpert's label files; a first component starting with
///   `CheXpert-v1.0` is dropped, so paths are relative to the same root as the CheXpert adapter;
/// - `role`: `query`, `candidate`, or blank for both (all-against-all retrieval, where a
///   query is never matched with itself);
/// - `class`: the class name; retrieval counts a hit when query and candidate share it.
///
/// The manifest has one multi-class label `class` (classes sorted by name) and the attribute
/// `role`; patient and study come from `patientNNNNN/studyN` when the path has them.
public func loadRetrievalSetManifest(root: URL, file: String, datasetName: String = "retrieval",
                                     imagePolicy: ImagePathPolicy = .insideRoot) throws(DatasetError) -> Manifest {
    let url = resolve(file, against: root)
    let table = try CSVTable.read(contentsOf: url, hint: "Write the retrieval list as CSV with columns path,role,class (see docs/DATASETS.md).")
    let pathColumn = try table.column(named: "path")
    let roleColumn = try table.column(named: "role")
    let classColumn = try table.column(named: "class")
    var samples: [Sample] = []
    var classes = Set<String>()
    for row in 0..<table.rowCount {
        func bad(_ column: Int, _ expected: String) -> DatasetError {
            .badValue(file: table.file, line: table.line(ofRow: row), column: table.header[column],
                      value: table.string(row: row, column: column), expected: expected)
        }
        let path = table.string(row: row, column: pathColumn)
        guard !path.isEmpty else { throw bad(pathColumn, "an image path") }
        let role = table.string(row: row, column: roleColumn)
        guard ["query", "candidate", ""].contains(role) else { throw bad(roleColumn, "query, candidate or blank (both)") }
        let className = table.string(row: row, column: classColumn)
        guard !className.isEmpty else { throw bad(classColumn, "a class name") }
        classes.insert(className)
        var components = path.split(separator: "/").map(String.init)
        if components.count > 1 && components[0].hasPrefix("CheXpert-v1.0") { components.removeFirst() }
        var patient = path, study = path
        if let index = components.firstIndex(where: { $0.hasPrefix("patient") }), index + 1 < components.count - 1 {
            patient = components[index]
            study = components[index] + "/" + components[index + 1]
        }
        samples.append(Sample(id: path, patientID: patient, studyID: study, imagePath: components.joined(separator: "/"),
                              labels: ["class": .category(className)],
                              attributes: role.isEmpty ? [:] : ["role": role]))
    }
    guard !samples.isEmpty else { throw .empty(file: table.file, reason: "the retrieval list has no rows") }
    let schema = LabelSchema([.multiClass("class", classes: classes.sorted())])
    return try Manifest(dataset: datasetName, root: root, schema: schema, samples: samples, source: table.file,
                        origins: (0..<table.rowCount).map { SourceLine(file: table.file, line: table.line(ofRow: $0)) },
                        imagePolicy: imagePolicy)
}

/// Which samples of a retrieval manifest are queries and which are candidates.
public struct RetrievalRoles: Sendable, Hashable {
    /// Indices into `Manifest.samples` of the queries.
    public let queries: [Int]
    /// Indices into `Manifest.samples` of the candidates searched for each query.
    public let candidates: [Int]
}

extension Manifest {
    /// Queries and candidates by the `role` attribute: `query`, `candidate`, or absent for both.
    /// Any manifest without roles gives all-against-all retrieval.
    public var retrievalRoles: RetrievalRoles {
        var queries: [Int] = [], candidates: [Int] = []
        for (index, sample) in samples.enumerated() {
            let role = sample.attributes["role"]
            if role != "candidate" { queries.append(index) }
            if role != "query" { candidates.append(index) }
        }
        return RetrievalRoles(queries: queries, candidates: candidates)
    }
}
