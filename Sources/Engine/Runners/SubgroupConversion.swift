import Datasets
import Evaluation
import Pipeline

/// Turns the spec's subgroup filters into the evaluation's, and gives every sample the
/// attributes filters look at.
enum Subgroups {
    /// The evaluation filter of a spec filter: every condition must hold. A condition is a
    /// value, a list of values, or `{min, max}` (`[min, max)`); numbers compare as text unless
    /// given as an interval.
    ///
    /// Sex values are matched as synonyms (`M` = `male`, `F` = `female`, any case): the spec's
    /// built-in `male`/`female` subgroups write `M`/`F`, the adapters write `male`/`female`.
    static func filter(_ spec: Pipeline.SubgroupFilter, stage: String) throws -> Evaluation.SubgroupFilter {
        var filters: [Evaluation.SubgroupFilter] = []
        for name in spec.conditions.keys.sorted() {
            let condition = spec.conditions[name]!
            func text(_ value: ParameterValue) throws -> String {
                switch value {
                case .string(let text): return text
                case .integer(let number): return String(number)
                case .number(let number): return String(number)
                case .bool(let flag): return flag ? "1" : "0"
                default:
                    throw RunnerError.badOption(stage: stage, option: "subgroup \(spec.name).\(name)", value: value.canonicalJSON,
                                                reason: "expected a value, a list of values or {min, max}")
                }
            }
            switch condition {
            case .list(let values):
                filters.append(.attribute(name: name, values: synonyms(try values.map(text), attribute: name)))
            case .object(let bounds):
                let lower = bounds["min"]?.doubleValue ?? -.infinity
                let upper = bounds["max"]?.doubleValue ?? .infinity
                guard lower < upper else {
                    throw RunnerError.badOption(stage: stage, option: "subgroup \(spec.name).\(name)", value: condition.canonicalJSON,
                                                reason: "an interval needs min < max")
                }
                filters.append(.numericRange(name: name, lower: lower, upper: upper))
            default:
                filters.append(.attribute(name: name, values: synonyms([try text(condition)], attribute: name)))
            }
        }
        switch filters.count {
        case 0: return .all
        case 1: return filters[0]
        default: return .allOf(filters)
        }
    }

    private static func synonyms(_ values: [String], attribute: String) -> [String] {
        guard attribute == AttributeName.sex else { return values }
        var result = values
        for value in values {
            switch value.lowercased() {
            case "m", "male": result += ["m", "male"]
            case "f", "female": result += ["f", "female"]
            default: break
            }
        }
        return result
    }

    /// What filters see of a sample: its attributes, plus its label values (class names, `1`/`0`
    /// for binary labels) under label names no attribute uses, so `{anatomy: chest}` works too.
    static func attributes(of sample: Sample) -> [String: String] {
        var attributes = sample.attributes
        for (label, value) in sample.labels where attributes[label] == nil {
            switch value {
            case .category(let name): attributes[label] = name
            case .positive: attributes[label] = "1"
            case .negative: attributes[label] = "0"
            case .uncertain, .missing: break
            }
        }
        return attributes
    }
}
