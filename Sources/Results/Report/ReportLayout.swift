import Foundation

/// Which coordinates label a report table's rows and columns, and in which order the labels go.
struct ReportLayout: Sendable {
    /// Coordinates of the row labels.
    var rowCoordinates: [ReportCoordinate]
    /// Coordinates of the column labels (the declared ones, plus any that vary and are not laid out).
    var columnCoordinates: [ReportCoordinate]
    /// Row labels in print order.
    var rowOrder: [String]
    /// Column labels in print order.
    var columnOrder: [String]
    /// Coordinates added to the columns because they vary, with the tasks they vary in: a
    /// column of another task leaves them out (`anatomy / 10%` beside `marker / 10%, CLS`).
    var foldedTasks: [ReportCoordinate: Set<String>]
    /// Display names.
    var vocabulary: ReportVocabulary

    /// Separates a column's group (its first coordinate) from the rest: `CheXpert / 10%`.
    static let groupSeparator = " / "

    /// Coordinates checked for variation, in the order they are added to the columns.
    static let foldable: [ReportCoordinate] = [.dataset, .head, .features, .fraction, .shots, .train, .test, .label, .metric]

    init(request: ReportTableRequest, rows: [ReportSourceRow]) {
        let declared = request.rows + request.columns
        // Within a task: a retrieval task's label (its relevance) differs between tasks, but the
        // task already tells them apart.
        let byTask = Dictionary(grouping: rows, by: \.task)
        func varies(_ coordinate: ReportCoordinate) -> Bool {
            if coordinate == .task { return byTask.count > 1 }
            return byTask.values.contains { Set($0.map { coordinate.rawValue(of: $0) }).count > 1 }
        }
        func laidOut(_ coordinate: ReportCoordinate) -> Bool {
            declared.contains(coordinate) || (coordinate == .metric && declared.contains(.k))
                || (coordinate == .k && declared.contains(.metric))
        }
        var columns = request.columns
        if !laidOut(.task), varies(.task) {
            // Needed unless the declared coordinates already tell the tasks apart (one task per dataset).
            var tasksAtLabels: [[String]: Set<String>] = [:]
            for row in rows { tasksAtLabels[declared.map { $0.rawValue(of: row) }, default: []].insert(row.task) }
            if tasksAtLabels.values.contains(where: { $0.count > 1 }) { columns.insert(.task, at: 0) }
        }
        var folded: [ReportCoordinate: Set<String>] = [:]
        for coordinate in Self.foldable where !laidOut(coordinate) && varies(coordinate) {
            columns.append(coordinate)
            folded[coordinate] = Set(byTask.filter { Set($0.value.map { coordinate.rawValue(of: $0) }).count > 1 }.keys)
        }
        rowCoordinates = request.rows
        columnCoordinates = columns
        foldedTasks = folded
        vocabulary = request.vocabulary
        rowOrder = Self.order(rows, coordinates: request.rows, request: request) { Self.rowLabel(of: $0, request.rows, request.vocabulary) }
        columnOrder = Self.order(rows, coordinates: columns, request: request) {
            Self.columnLabel(of: $0, columns, folded, request.vocabulary)
        }
    }

    /// The row label of a result: its row coordinates joined by commas.
    func rowLabel(of row: ReportSourceRow) -> String { Self.rowLabel(of: row, rowCoordinates, vocabulary) }

    private static func rowLabel(of row: ReportSourceRow, _ coordinates: [ReportCoordinate], _ vocabulary: ReportVocabulary) -> String {
        guard !coordinates.isEmpty else { return "all" }
        return coordinates.map { $0.label(of: row, inColumns: false, vocabulary: vocabulary) }.joined(separator: ", ")
    }

    /// The column label: the first coordinate as a group, then the others joined by commas;
    /// the metric's name when no coordinate is laid out across.
    func columnLabel(of row: ReportSourceRow) -> String { Self.columnLabel(of: row, columnCoordinates, foldedTasks, vocabulary) }

    private static func columnLabel(of row: ReportSourceRow, _ coordinates: [ReportCoordinate],
                                    _ folded: [ReportCoordinate: Set<String>], _ vocabulary: ReportVocabulary) -> String {
        let parts = coordinates.filter { folded[$0]?.contains(row.task) ?? true }
            .map { $0.label(of: row, inColumns: true, vocabulary: vocabulary) }
        switch parts.count {
        case 0: return vocabulary.metricName(row.metric)
        case 1: return parts[0]
        default: return parts[0] + groupSeparator + parts.dropFirst().joined(separator: ", ")
        }
    }

    /// The header of the row-label column.
    var rowHeader: String {
        rowCoordinates.isEmpty ? "" : rowCoordinates.map(\.header).joined(separator: ", ")
    }

    /// Labels sorted coordinate by coordinate: numbers numerically, names in declared order, then
    /// in the order their first result was recorded.
    private static func order(_ rows: [ReportSourceRow], coordinates: [ReportCoordinate], request: ReportTableRequest,
                              label: (ReportSourceRow) -> String) -> [String] {
        var firstSeen: [ReportCoordinate: [String: Int]] = [:]
        for coordinate in coordinates {
            var seen: [String: Int] = [:]
            for (index, value) in (request.valueOrder[coordinate] ?? []).enumerated() where seen[value] == nil {
                seen[value] = index
            }
            let declaredCount = seen.count
            if coordinate == .task {
                for (index, task) in request.tasks.enumerated() where seen[task] == nil { seen[task] = declaredCount + index }
            }
            for row in rows {
                let value = coordinate.rawValue(of: row)
                if seen[value] == nil { seen[value] = 1_000_000 + seen.count }
            }
            firstSeen[coordinate] = seen
        }
        func key(_ row: ReportSourceRow) -> [Double] {
            coordinates.map { coordinate in
                coordinate.numericKey(of: row) ?? Double(firstSeen[coordinate]?[coordinate.rawValue(of: row)] ?? 0)
            }
        }
        var labels: [String] = []
        var keys: [String: [Double]] = [:]
        for row in rows {
            let text = label(row)
            if keys[text] == nil {
                keys[text] = key(row)
                labels.append(text)
            }
        }
        return labels.enumerated().sorted { left, right in
            let (a, b) = (keys[left.element] ?? [], keys[right.element] ?? [])
            return a == b ? left.offset < right.offset : a.lexicographicallyPrecedes(b)
        }.map(\.element)
    }
}
