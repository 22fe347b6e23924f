import Pipeline

/// Checks of the probe tasks' few-shot and comparison settings against their matrix, run when
/// the spec loads (problems carry key paths relative to the task, so they are reported at the
/// offending key's line).
enum ProbeTaskChecks {
    static func check(_ task: TaskSpec) -> [SpecProblem] {
        guard let options = try? task.options(as: ProbeTaskOptions.self) else { return [] }
        var problems: [SpecProblem] = []
        let matrix = task.matrix
        if matrix.axes["shots"] != nil, matrix.axes["fraction"] != nil {
            problems.append(SpecProblem(at: "matrix.shots", "a few-shot cell trains on `shots` samples per class drawn from the whole "
                + "training part, so it has no fraction; drop matrix.fraction, or put the fractions in a task of their own"))
        }
        if options.tries != nil {
            if matrix.axes["shots"] == nil {
                problems.append(SpecProblem(at: "tries", "tries counts few-shot episodes; it needs matrix.shots (use matrix.seed to repeat other cells)"))
            }
            if matrix.axes["seed"] != nil {
                problems.append(SpecProblem(at: "tries", "tries: N runs the episodes with seeds 0 to N−1; give either tries or matrix.seed, not both"))
            }
        }
        if let compare = options.compare {
            let backbones = matrix.backbone
            if backbones.count < 2 {
                problems.append(SpecProblem(at: "compare", "a paired comparison needs at least two backbones in matrix.backbone, found \(backbones.count)"))
            }
            if compare.against != "all", !backbones.contains(compare.against) {
                let suggestion = closestMatch(to: compare.against, among: backbones + ["all"]).map { "; did you mean \"\($0)\"?" } ?? ""
                problems.append(SpecProblem(at: "compare.against", "\"\(compare.against)\" is not a backbone of this task "
                    + "(matrix.backbone: \(backbones.joined(separator: ", "))); name one of them, or `all` for every pair\(suggestion)"))
            }
            if compare.test == .delong {
                if options.target == .multiclass {
                    problems.append(SpecProblem(at: "compare.test", "DeLong compares the AUROCs of binary labels; a multi-class task needs "
                        + "test: paired-bootstrap"))
                }
                for field in ["replicates", "seed"] where (field == "replicates" ? compare.replicates : compare.seed) != nil {
                    problems.append(SpecProblem(at: "compare.\(field)", "\(field) applies to test: paired-bootstrap; DeLong resamples nothing"))
                }
            }
        }
        return problems
    }

    /// The backbone pairs `compare` asks for, in matrix order: `(b, against)` for every other
    /// backbone b, or every pair `(bᵢ, bⱼ)`, i < j, for `all`.
    static func pairs(against: String, backbones: [String]) -> [BackbonePair] {
        guard against == "all" else {
            return backbones.filter { $0 != against }.map { BackbonePair(first: $0, second: against) }
        }
        var pairs: [BackbonePair] = []
        for (offset, first) in backbones.enumerated() {
            for second in backbones[(offset + 1)...] { pairs.append(BackbonePair(first: first, second: second)) }
        }
        return pairs
    }
}
