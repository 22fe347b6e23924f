import Pipeline

/// Expands a `classification` or `fairness` task into stages: per cell one split and probe per
/// training subgroup, a metric stage per test subgroup (the first also records the probe's
/// training curve when the head trains), for fairness the bootstraps and one comparison family, and with `compare:` one
/// `paired-test` stage per cell and test subgroup across the backbones. Splits read only the
/// manifest, so every backbone shares them; one probe serves every test subgroup.
struct ProbeTaskCompiler {
    let task: TaskSpec
    let fairness: Bool

    /// The stages `compile` adds, from the axis sizes alone: per dataset, fraction or shots, seed
    /// or try, and training subgroup a split (every backbone, head and feature shares it); per
    /// cell (backbone, dataset, head, regime, seed, features) a probe per training subgroup, and
    /// per test subgroup a metric (and for fairness a bootstrap); for fairness one comparison
    /// family per cell; with `compare`, per cell without its backbone a paired test per
    /// training and test subgroup; plus the shared manifests and embeddings.
    var stageCount: Int {
        let matrix = task.matrix
        let options = try? task.options(as: ProbeTaskOptions.self)
        let regimes = matrix.axes["shots"] != nil ? matrix.size(of: "shots") : matrix.size(of: "fraction")
        let seeds = matrix.axes["seed"] != nil ? matrix.size(of: "seed") : options?.tries ?? 1
        let train = matrix.size(of: "train"), test = matrix.size(of: "test")
        let splits = StageCount.product([matrix.size(of: "dataset"), regimes, seeds, train])
        let unpaired = StageCount.product(["dataset", "head", "features"].map { matrix.size(of: $0) } + [regimes, seeds])
        let cells = StageCount.product([matrix.size(of: "backbone"), unpaired])
        let perTraining = StageCount.sum([1, StageCount.product([test, fairness ? 2 : 1])])
        let perCell = StageCount.sum([StageCount.product([train, perTraining]), fairness ? 1 : 0])
        let paired = options?.compare != nil ? StageCount.product([unpaired, train, test]) : 0
        return StageCount.sum([StageCount.sharedStages(matrix), splits, StageCount.product([cells, perCell]), paired])
    }

    /// The training regime of a cell: a fraction of the training part, or a few-shot draw.
    struct Regime: Hashable {
        var fraction: Double?
        var shots: Int?

        var text: String { shots.map { "\($0)-shot" } ?? "f=\(fraction ?? 1)" }
    }

    /// A cell without its backbone: where the probes of several backbones can be compared.
    struct PairedCell: Hashable {
        var dataset: String
        var head: String
        var feature: FeatureKind
        var regime: Regime
        var seed: Int
        var train: String
    }

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
        let regimes = matrix.integers("shots").map { $0.map { Regime(fraction: nil, shots: $0) } }
            ?? (matrix.numbers("fraction") ?? [1]).map { Regime(fraction: $0, shots: nil) }
        let seeds = matrix.integers("seed") ?? options.tries.map { Array(0..<$0) } ?? [0]
        for head in heads { _ = graph.head(head) }
        for dataset in matrix.dataset {
            checkFields(options, dataset: dataset, trainGroups: trainGroups, testGroups: testGroups, graph: &graph)
            checkMasks(heads: heads, dataset: dataset, masks: options.masks, graph: &graph)
        }
        checkSegmentationMetrics(options, heads: heads, graph: &graph)
        var probes: [PairedCell: [String: StageKey]] = [:]
        var cellOrder: [PairedCell] = []
        var manifests: [String: StageKey] = [:]
        for backbone in matrix.backbone {
            for dataset in matrix.dataset {
                guard let (embed, manifest) = graph.embedding(backbone: backbone, dataset: dataset) else { continue }
                manifests[dataset] = manifest.key
                for head in heads {
                    guard let (headParameters, trains) = resolvedHead(head, graph: &graph) else { continue }
                    // A head that reads patch tokens has one input whatever the `features:` axis lists.
                    let readsTokens = graph.catalog.embeddingOutputs(ofHead: head, in: graph.spec).patchTokens
                    for regime in regimes {
                        for seed in seeds {
                            for feature in readsTokens ? [.patch] : features {
                                let cell = StageCoordinates(experiment: graph.spec.experiment, task: task.name, backbone: backbone,
                                                            dataset: dataset, head: head, features: feature.rawValue,
                                                            fraction: regime.fraction, seed: seed, shots: regime.shots)
                                let added = addCell(options, head: headParameters, trains: trains, feature: feature, regime: regime,
                                                    embed: embed, manifest: manifest, coordinates: cell, trainGroups: trainGroups,
                                                    testGroups: testGroups, graph: &graph)
                                for (train, probe) in added {
                                    let key = PairedCell(dataset: dataset, head: head, feature: feature, regime: regime, seed: seed, train: train)
                                    if probes[key] == nil { cellOrder.append(key) }
                                    probes[key, default: [:]][backbone] = probe
                                }
                            }
                        }
                    }
                }
            }
        }
        if let compare = options.compare {
            addPairedTests(compare, options: options, cells: cellOrder, probes: probes, manifests: manifests, testGroups: testGroups,
                           graph: &graph)
        }
    }

    /// The head's settings as its kind resolves them and whether it trains, or nil (reported)
    /// when they do not resolve.
    private func resolvedHead(_ name: String, graph: inout GraphBuilder) -> (HeadParameters, trains: Bool)? {
        // The catalog holds the registered head kinds themselves, so the engine's view is a cast away.
        guard let entry = graph.head(name), let kind = graph.catalog.heads[entry.kind] as? any HeadKind else { return nil }
        do {
            return (HeadParameters(kind: entry.kind, settings: try kind.settings(ComponentOptions(stage: "head \(name)", values: entry.options))),
                    kind.trains)
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

    /// `dice`, `iou` and `dice-pos` score a head's segmentation branch: every head of the task
    /// must train one (a segmenting kind with a positive mask loss). Reported at `metric`, naming
    /// the head and its place in `matrix.head`.
    private func checkSegmentationMetrics(_ options: ProbeTaskOptions, heads: [String], graph: inout GraphBuilder) {
        let asked = (options.metric ?? []).filter { SegmentationMetricName(rawValue: $0) != nil }
        guard let first = asked.first else { return }
        for (index, head) in heads.enumerated() where !graph.catalog.needsMasks(head: head, in: graph.spec) {
            let kind = graph.spec.heads[head]?.kind ?? head
            graph.report(at: task.keyPath("metric"),
                         "\(first) scores a head's segmentation branch, and head \"\(head)\" (\(kind)) at matrix.head[\(index)] trains none; "
                         + "ask \(asked.joined(separator: ", ")) in a task whose heads are multitask or multitask-plus with a positive "
                         + "dice_weight or structure_weight, and the classification metrics of the other heads in a task of their own")
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

    /// Adds one cell's stages; returns the probe of each training subgroup.
    private func addCell(_ options: ProbeTaskOptions, head: HeadParameters, trains: Bool, feature: FeatureKind, regime: Regime,
                         embed: Stage, manifest: Stage, coordinates: StageCoordinates, trainGroups: [String], testGroups: [String],
                         graph: inout GraphBuilder) -> [(train: String, probe: StageKey)] {
        guard let seed = coordinates.seed else { return [] }
        let labels = options.labels
        let target = options.target ?? .multilabel
        let aggregate = options.aggregate ?? .none
        let metrics = options.metric ?? ["auroc"]
        let cellName = "\(task.name) \(coordinates.backbone) × \(coordinates.dataset) \(coordinates.head) \(regime.text) s=\(seed) [\(feature.rawValue)]"
        var bootstraps: [String: StageKey] = [:]
        var probes: [(train: String, probe: StageKey)] = []
        for train in trainGroups {
            let split = graph.add(.split, parameters: SplitParameters(
                fraction: regime.fraction ?? 1, seed: seed, trainFilter: graph.subgroupFilter(train),
                validationRatio: options.split?.validation ?? 0.1, testRatio: options.split?.test ?? 0.2, stratifyLabels: labels,
                shots: regime.shots),
                inputs: ["manifest": manifest.key], label: "split \(coordinates.dataset) \(regime.text) s=\(seed) train=\(train)")
            // Patch heads read the manifest's masks.
            var probeInputs = ["embed": embed.key, "split": split.key]
            if feature == .patch { probeInputs["manifest"] = manifest.key }
            let probe = graph.add(.probe, parameters: ProbeParameters(head: head, labels: labels, target: target, features: feature, seed: seed,
                                                                      maskClasses: feature == .patch ? options.masks : nil),
                                  inputs: probeInputs, label: "probe \(cellName) train=\(train)")
            probes.append((train, probe.key))
            for test in testGroups {
                var cell = coordinates
                cell.trainSubgroup = train
                cell.testSubgroup = test
                graph.add(.metric, parameters: MetricParameters(
                    metrics: metrics, labels: labels, target: target, aggregate: aggregate,
                    testFilter: graph.subgroupFilter(test), recordPredictions: options.predictions ?? true,
                    trainingCurve: trains && test == testGroups.first ? true : nil),
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
        guard fairness else { return probes }
        let pairs = options.comparisons?.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil } ?? allPairs(trainGroups)
        var comparisons: [Comparison] = []
        for test in testGroups {
            for (first, second) in pairs { comparisons.append(Comparison(first: first, second: second, test: test)) }
        }
        guard !comparisons.isEmpty else { return probes }
        var family = coordinates
        family.trainSubgroup = ""
        family.testSubgroup = ""
        graph.add(.compare, parameters: CompareParameters(comparisons: comparisons, correction: options.correction ?? .none),
                  inputs: bootstraps, coordinates: family, label: "compare \(cellName)")
        return probes
    }

    /// One `paired-test` stage per cell and test subgroup whose backbones' probes all exist.
    private func addPairedTests(_ compare: ProbeTaskOptions.CompareSettings, options: ProbeTaskOptions, cells: [PairedCell],
                                probes: [PairedCell: [String: StageKey]], manifests: [String: StageKey], testGroups: [String],
                                graph: inout GraphBuilder) {
        let pairs = ProbeTaskChecks.pairs(against: compare.against, backbones: task.matrix.backbone)
        let target = options.target ?? .multilabel
        // Paired tests compare classification scores; mask metrics have no paired test here.
        let metrics = compare.test == .delong ? ["auroc"]
            : (options.metric ?? ["auroc"]).filter { SegmentationMetricName(rawValue: $0) == nil }
        for cell in cells {
            guard let byBackbone = probes[cell], let manifest = manifests[cell.dataset] else { continue }
            let usable = pairs.filter { byBackbone[$0.first] != nil && byBackbone[$0.second] != nil }
            guard !usable.isEmpty else { continue }
            var inputs = ["manifest": manifest]
            for pair in usable {
                inputs["probe.\(pair.first)"] = byBackbone[pair.first]
                inputs["probe.\(pair.second)"] = byBackbone[pair.second]
            }
            for test in testGroups {
                let coordinates = StageCoordinates(experiment: graph.spec.experiment, task: task.name, backbone: "", dataset: cell.dataset,
                                                   head: cell.head, features: cell.feature.rawValue, fraction: cell.regime.fraction,
                                                   seed: cell.seed, shots: cell.regime.shots, trainSubgroup: cell.train, testSubgroup: test)
                graph.add(.pairedTest, parameters: PairedTestParameters(
                    test: compare.test, metrics: metrics, labels: options.labels, target: target, aggregate: options.aggregate ?? .none,
                    testFilter: graph.subgroupFilter(test), pairs: usable,
                    replicates: compare.test == .pairedBootstrap ? compare.replicates ?? 1000 : nil,
                    seed: compare.test == .pairedBootstrap ? compare.seed ?? 0 : nil, correction: compare.correction ?? .holm),
                    inputs: inputs, coordinates: coordinates,
                    label: "\(compare.test.rawValue) \(task.name) \(cell.dataset) \(cell.head) \(cell.regime.text) s=\(cell.seed) "
                        + "[\(cell.feature.rawValue)] train=\(cell.train) test=\(test)")
            }
        }
    }

    private func allPairs(_ names: [String]) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for (offset, first) in names.enumerated() {
            for second in names[(offset + 1)...] { pairs.append((first, second)) }
        }
        return pairs
    }
}
