/// How the `csv` adapter reads attribute cells: value maps first, then the normalisation of
/// the shared attributes `sex`, `age` and `view`, so fairness subgroups and view filters work
/// as on the built-in adapters.
struct CSVAttributeReader {
    /// The attribute's name in the manifest.
    let name: String
    /// Its column index.
    let column: Int
    /// Its value map, if the options give one.
    let map: CSVValueMap?

    /// The attribute value of one cell: nil when unknown.
    ///
    /// - Throws: the error `bad(expected)` builds when the map does not list the cell, or when
    ///   the (mapped) value is not one the attribute allows.
    func value(of cell: String, bad: (String) -> DatasetError) throws(DatasetError) -> String? {
        var value = cell
        if let map {
            switch map.map(cell) {
            case .value(let mapped): value = mapped
            case .unknown: return nil
            case .unmapped:
                throw bad("one of the cells the value map of attribute \(name) lists (\(map.listedCells)) or blank; "
                          + "add the value to values.\(name), or a \"*\" entry for all other values (see docs/DATASETS.md)")
            }
        } else if cell.isEmpty {
            return nil
        }
        switch name {
        case AttributeName.sex:
            if let sex = Self.sex(value) { return sex.rawValue }
            // Without a map, other values (Unknown, O, …) mean unknown, as they always have;
            // with a map, the researcher said what each cell means, so a kept value must be a sex.
            guard map == nil else { throw bad("a cell the value map turns into female or male (it gave \"\(value)\")") }
            return nil
        case AttributeName.age:
            guard let age = Self.age(value) else {
                throw bad(map == nil ? "an age in years from 0 to 130, or blank"
                                     : "a cell the value map turns into an age from 0 to 130 (it gave \"\(value)\")")
            }
            return age.map(String.init)
        case AttributeName.view:
            return Self.view(value)
        default:
            return value
        }
    }

    /// `female`/`f`/`male`/`m` in any case; nil otherwise.
    static func sex(_ text: String) -> Sex? {
        switch text.lowercased() {
        case "female", "f": .female
        case "male", "m": .male
        default: nil
        }
    }

    /// Whole years from a number 0...130 (`68`, `68.0`, `68.4` → 68); `.some(nil)` for 0, which
    /// label files use for unknown; nil when the text is not such a number.
    static func age(_ text: String) -> Int?? {
        guard let age = Double(text), age >= 0, age <= 130 else { return nil }
        return .some(Int(age) > 0 ? Int(age) : nil)
    }

    /// `frontal` and `lateral` in any case become lower case; other views stay as written.
    static func view(_ text: String) -> String {
        switch text.lowercased() {
        case "frontal": "frontal"
        case "lateral": "lateral"
        default: text
        }
    }

    /// Checks a value map's fixed outputs before any row is read, so a map that could never
    /// produce a valid `sex` or `age` fails with the option's name.
    static func validate(_ map: CSVValueMap, of name: String) throws(DatasetError) {
        for (key, value) in map.targets {
            switch name {
            case AttributeName.sex where sex(value) == nil:
                throw .invalidOption(name: "values.\(name).\(key)", value: value,
                                     reason: "sex values must be female or male (or empty / ~ for unknown)")
            case AttributeName.age where age(value) == nil:
                throw .invalidOption(name: "values.\(name).\(key)", value: value,
                                     reason: "age values must be years from 0 to 130 (or empty / ~ for unknown)")
            default:
                continue
            }
        }
    }
}
