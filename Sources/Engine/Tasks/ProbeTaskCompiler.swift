import Pipeline

/// Expands a `classification` or `fairness` task into stages: per cell one split and probe per
/// training subgroup, a metric stage per test subgroup, and for fairness the bootstraps and one
/// comparison family. Splits read only the manifest, so every backbone shares them; one probe
/// serves every test subgroup.
struct ProbeTaskCompiler {
    let task: TaskSpec
    let fairness: Bool

    func compile(into graph: inout GraphBuilder) {
        let options: ProbeTaskOptions
        do {
            options = try task.options(as: ProbeTaskOptions.self)
        } catch {
            preconditionFailure("validated \(task.kind) fields decode: \(error)")
        }
        let matrix = task.matrix
        let features = (matrix.strings("features") ?? ["cls"]).compactMap(FeatureKind.init(rawValue:))
        let heads = matrix.strings("head") ?? ["mlp"]
        let trainGroups = matrix.strings("train") ?? ["all"]
        let testGroups = matrix.strings("test") ?? ["all"]
        for head in heads { _ = graph.head(head) }
        for dataset in matrix.dataset {
            checkFields(options, dataset: dataset, trainGroups: trainGroups, testGroups: testGroups, graph: &graph)
            checkMasks(heads: heads, dataset: dataset, masks: options.masks, graph: &graph)
        }
        for backbone in matrix.backbone {
            for dataset in matrix.dataset {
                guard let (embed, manifest) = graph.embedding(backbone: backbone, dataset: dataset) else { continue }
                for head in heads {
                    guard let headParameters = resolvedHead(head, graph: &graph) else { continue }
                    // A head that reads patch tokens has one input whatever the `features:` axis lists.
                    let readsTokens = graph.catalog.embeddingOutputs(ofHead: head, in: graph.spec).patchTokens
                    for fraction in matrix.numbers("fraction") ?? [1] {
                        for seed in matrix.integers("seed") ?? [0] {
                            for feature in readsTokens ? [.patch] : features {
                                let cell = StageCoordinates(experiment: graph.spec.experiment, task: task.name, backbone: backbone,
                                                            dataset: dataset, head: head, features: feature.rawValue,
                                                            fraction: fraction, seed: seed)
                                addCell(options, head: headParameters, feature: feature, embed: embed, manifest: manifest,
                                        coordinates: cell, trainGroups: trainGroups, testGroups: testGroups, graph: &graph)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The head's settings as its kind resolves them, or nil (reported) when they do not resolve.
    private func resolvedHead(_ name: String, graph: inout GraphBuilder) -> HeadParameters? {
        // The catalog holds the registered head kinds themselves, so the engine's view is a cast away.
        guard let entry = graph.head(name), let kind = graph.catalog.heads[entry.kind] as? any HeadKind else { return nil }
        do {
            return HeadParameters(kind: entry.kind, settings: try kind.settings(ComponentOptions(stage: "head \(name)", values: entry.options)))
        } catch {
            graph.report(at: "heads.\(name)", "\(error)")
            return nil
        }
    }

    /// A head that trains on masks needs a dataset with masks (when its fields are known before
    /// its manifest): reported at the head's place in `matrix.head`.
    private func checkMasks(heads: [String], dataset: String, masks: [String]?, graph: inout GraphBuilder) {
        guard let fields = graph.fields(ofDataset: dataset) else { return }
        if !fields.masks.isEmpty {
            for (index, name) in (masks ?? []).enumerated() where !fields.masks.contains(name) {
                graph.report(at: task.keyPath("masks[\(index)]"),
                             "dataset \"\(dataset)\" has no mask class \"\(name)\" (it has \(GraphBuilder.listing(fields.masks)))",
                             suggestion: closestMatch(to: name, among: fields.masks))
            }
            return
        }
        for (index, head) in heads.enumerated() where graph.catalog.needsMasks(head: head, in: graph.spec) {
            let kind = graph.spec.heads[head]?.kind ?? head
            graph.report(at: task.keyPath("matrix.head[\(index)]"),
                         "head \"\(head)\" (\(kind)) trains a segmentation branch on masks, and dataset \"\(dataset)\" has none; "
                         + "use a dataset with masks (siim-acr, phantom with `masks: true`, csv with `mask_columns`), "
                         + "or set the head's dice_weight (and structure_weight) to 0")
        }
    }

    /// Labels, and the attributes the subgroups look at, must exist in the dataset (when its
    /// fields are known before its manifest).
    private func checkFields(_ options: ProbeTaskOptions, dataset: String, trainGroups: [String], testGroups: [String],
                             graph: inout GraphBuilder) {
        guard let fields = graph.fields(ofDataset: dataset) else { return }
        for (index, label) in options.labels.enumerated() where !fields.labels.contains(label) {
            graph.report(at: task.keyPath("labels[\(index)]"),
                         "dataset \"\(dataset)\" has no label \"\(label)\" (it has \(GraphBuilder.listing(fields.labels)))",
                         suggestion: closestMatch(to: label, among: fields.labels))
        }
        for (index, name) in trainGroups.enumerated() { graph.checkSubgroup(name, on: dataset, keyPath: task.keyPath("matrix.train[\(index)]")) }
        for (index, name) in testGroups.enumerated() { graph.checkSubgroup(name, on: dataset, keyPath: task.keyPath("matrix.test[\(index)]")) }
    }

    private func addCell(_ options: ProbeTaskOptions, head: HeadParameters, feature: FeatureKind, embed: Stage, manifest: Stage,
                         coordinates: StageCoordinates, trainGroups: [String], testGroups: [String], graph: inout GraphBuilder) {
        guard let fraction = coordinates.fraction, let seed = coordinates.seed else { return }
        let labels = options.labels
        let target = options.target ?? .multilabel
        let aggregate = options.aggregate ?? .none
        let metrics = options.metric ?? ["auroc"]
        let cellName = "\(task.name) \(coordinates.backbone) × \(coordinates.dataset) \(coordinates.head) f=\(fraction) s=\(seed) [\(feature.rawValue)]"
        var bootstraps: [String: StageKey] = [:]
        for train in trainGroups {
            let split = graph.add(.split, parameters: SplitParameters(
                fraction: fraction, seed: seed, trainFilter: graph.subgroupFilter(train),
                validationRatio: options.split?.validation ?? 0.1, testRatio: options.split?.test ?? 0.2, stratifyLabels: labels),
                inputs: ["manifest": manifest.key], label: "split \(coordinates.dataset) f=\(fraction) s=\(seed) train=\(train)")
            // Patch heads read the manifest's masks.
            var probeInputs = ["embed": embed.key, "split": split.key]
            if feature == .patch { probeInputs["manifest"] = manifest.key }
            let probe = graph.add(.probe, parameters: ProbeParameters(head: head, labels: labels, target: target, features: feature, seed: seed,
                                                                      maskClasses: feature == .patch ? options.masks : nil),
                                  inputs: probeInputs, label: "probe \(cellName) train=\(train)")
            for test in testGroups {
                var cell = coordinates
                cell.trainSubgroup = train
                cell.testSubgroup = test
                graph.add(.metric, parameters: MetricParameters(
                    metrics: metrics, labels: labels, target: target, aggregate: aggregate,
                    testFilter: graph.subgroupFilter(test), recordPredictions: options.predictions ?? true),
                    inputs: ["probe": probe.key, "manifest": manifest.key], coordinates: cell,
                    label: "metric \(cellName) train=\(train) test=\(test)")
                guard fairness else { continue }
                let bootstrap = graph.add(.bootstrap, parameters: BootstrapParameters(
                    metric: metrics.first ?? "auroc", labels: labels, target: target, aggregate: aggregate,
                    testFilter: graph.subgroupFilter(test), replicates: options.bootstrap?.replicates ?? 200,
                    seed: options.bootstrap?.seed ?? 0),
                    inputs: ["probe": probe.key, "manifest": manifest.key], coordinates: cell,
                    label: "bootstrap \(cellName) train=\(train) test=\(test)")
                bootstraps["bootstrap.\(train).\(test)"] = bootstrap.key
            }
        }
        guard fairness else { return }
        let pairs = options.comparisons?.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil } ?? allPairs(trainGroups)
        var comparisons: [Comparison] = []
        for test in testGroups {
            for (first, second) in pairs { comparisons.append(Comparison(first: first, second: second, test: test)) }
        }
        guard !comparisons.isEmpty else { return }
        var family = coordinates
        family.trainSubgroup = ""
        family.testSubgroup = ""
        graph.add(.compare, parameters: CompareParameters(comparisons: comparisons, correction: options.correction ?? .none),
                  inputs: bootstraps, coordinates: family, label: "compare \(cellName)")
    }

    private func allPairs(_ names: [String]) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for (offset, first) in names.enumerated() {
            for second in names[(offset + 1)...] { pairs.append((first, second)) }
        }
        return pairs
    }
}
