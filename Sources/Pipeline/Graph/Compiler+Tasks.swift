extension Compiler {
    /// Expands one task's matrix into stages.
    mutating func expand(_ task: TaskSpec, in spec: Spec) {
        let matrix = task.matrix
        for backbone in matrix.backbone {
            for dataset in matrix.dataset {
                guard let (embed, manifest) = embedding(backbone: backbone, dataset: dataset, in: spec) else { continue }
                var base = StageCoordinates(experiment: spec.experiment, task: task.name, backbone: backbone, dataset: dataset)
                switch task.kind {
                case .retrieval:
                    for features in matrix.features ?? [.cls] {
                        base.features = features.rawValue
                        retrieval(task, embed: embed, manifest: manifest, coordinates: base, in: spec)
                    }
                case .classification, .fairness:
                    for head in matrix.head ?? ["mlp"] {
                        for fraction in matrix.fraction ?? [1] {
                            for seed in matrix.seed ?? [0] {
                                for features in matrix.features ?? [.cls] {
                                    var cell = base
                                    cell.head = head
                                    cell.fraction = fraction
                                    cell.seed = seed
                                    cell.features = features.rawValue
                                    probeCell(task, embed: embed, manifest: manifest, coordinates: cell, in: spec)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private mutating func retrieval(_ task: TaskSpec, embed: Stage, manifest: Stage, coordinates: StageCoordinates, in spec: Spec) {
        let index = spec.tasks.firstIndex(of: task) ?? 0
        func selection(_ set: SampleSetSpec?, side: String) -> SampleSelection? {
            guard let set else { return SampleSelection(filter: nil, file: nil) }
            if let subgroup = set.subgroup { return SampleSelection(filter: filter(subgroup, in: spec), file: nil) }
            if let file = set.file {
                guard let reference = fileReference(file, keyPath: "tasks[\(index)].\(side).file", in: spec) else { return nil }
                return SampleSelection(filter: nil, file: reference)
            }
            return SampleSelection(filter: nil, file: nil)
        }
        guard let queries = selection(task.queries, side: "queries"),
              let candidates = selection(task.candidates, side: "candidates"),
              let features = FeatureKind(rawValue: coordinates.features) else { return }
        let parameters = RetrievalParameters(k: task.k ?? [], relevance: task.relevance ?? [], features: features,
                                             queries: queries, candidates: candidates)
        _ = add(Stage(kind: .retrieval, codeVersion: options.version(.retrieval), parameters: encode(parameters),
                      inputs: ["embed": embed.key, "manifest": manifest.key], threads: options.threads(.retrieval),
                      coordinates: coordinates,
                      label: "retrieval \(task.name) \(coordinates.backbone) × \(coordinates.dataset) [\(coordinates.features)]"))
    }

    /// One probe cell: a split and probe per training subgroup, metrics (and for fairness,
    /// bootstraps and one comparison family) per test subgroup.
    private mutating func probeCell(_ task: TaskSpec, embed: Stage, manifest: Stage, coordinates: StageCoordinates, in spec: Spec) {
        guard let fraction = coordinates.fraction, let seed = coordinates.seed,
              let features = FeatureKind(rawValue: coordinates.features),
              let headSpec = spec.heads[coordinates.head] else { return }
        let labels = task.labels ?? []
        let target = task.target ?? .multilabel
        let aggregate = task.aggregate ?? .none
        let metrics = task.metric ?? [.auroc]
        let trainGroups = task.matrix.train ?? ["all"]
        let testGroups = task.matrix.test ?? ["all"]
        let cellName = "\(task.name) \(coordinates.backbone) × \(coordinates.dataset) \(coordinates.head) f=\(fraction) s=\(seed) [\(coordinates.features)]"
        var bootstraps: [String: StageKey] = [:]
        for train in trainGroups {
            let split = add(Stage(
                kind: .split, codeVersion: options.version(.split),
                parameters: encode(SplitParameters(fraction: fraction, seed: seed, trainFilter: filter(train, in: spec),
                                                   validationRatio: task.split?.validation ?? 0.1, testRatio: task.split?.test ?? 0.2,
                                                   stratifyLabels: labels)),
                inputs: ["manifest": manifest.key], threads: options.threads(.split),
                label: "split \(coordinates.dataset) f=\(fraction) s=\(seed) train=\(train)"))
            let probe = add(Stage(
                kind: .probe, codeVersion: options.version(.probe),
                parameters: encode(ProbeParameters(head: HeadParameters(headSpec), labels: labels, target: target,
                                                   features: features, seed: seed)),
                inputs: ["embed": embed.key, "split": split.key], threads: options.threads(.probe),
                label: "probe \(cellName) train=\(train)"))
            for test in testGroups {
                var cell = coordinates
                cell.trainSubgroup = train
                cell.testSubgroup = test
                _ = add(Stage(
                    kind: .metric, codeVersion: options.version(.metric),
                    parameters: encode(MetricParameters(metrics: metrics, labels: labels, target: target, aggregate: aggregate,
                                                        testFilter: filter(test, in: spec), recordPredictions: task.predictions ?? true)),
                    inputs: ["probe": probe.key, "manifest": manifest.key], threads: options.threads(.metric),
                    coordinates: cell, label: "metric \(cellName) train=\(train) test=\(test)"))
                guard task.kind == .fairness else { continue }
                let bootstrap = add(Stage(
                    kind: .bootstrap, codeVersion: options.version(.bootstrap),
                    parameters: encode(BootstrapParameters(metric: metrics.first ?? .auroc, labels: labels, target: target,
                                                           aggregate: aggregate, testFilter: filter(test, in: spec),
                                                           replicates: task.bootstrap?.replicates ?? 200,
                                                           seed: task.bootstrap?.seed ?? 0)),
                    inputs: ["probe": probe.key, "manifest": manifest.key], threads: options.threads(.bootstrap),
                    coordinates: cell, label: "bootstrap \(cellName) train=\(train) test=\(test)"))
                bootstraps["bootstrap.\(train).\(test)"] = bootstrap.key
            }
        }
        guard task.kind == .fairness else { return }
        let pairs = task.comparisons?.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil } ?? allPairs(trainGroups)
        var comparisons: [Comparison] = []
        for test in testGroups {
            for (first, second) in pairs { comparisons.append(Comparison(first: first, second: second, test: test)) }
        }
        guard !comparisons.isEmpty else { return }
        var family = coordinates
        family.trainSubgroup = ""
        family.testSubgroup = ""
        _ = add(Stage(
            kind: .compare, codeVersion: options.version(.compare),
            parameters: encode(CompareParameters(comparisons: comparisons, correction: task.correction ?? .none)),
            inputs: bootstraps, threads: options.threads(.compare), coordinates: family, label: "compare \(cellName)"))
    }

    private func allPairs(_ names: [String]) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for (offset, first) in names.enumerated() {
            for second in names[(offset + 1)...] { pairs.append((first, second)) }
        }
        return pairs
    }
}
