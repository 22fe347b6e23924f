/// The metrics a build knows, by spelling: exact names (`auroc`) and parameterised families
/// (`precision@k`), each registered once.
///
/// Runners resolve the metric names of their parameters here, and validation messages and docs
/// list `spellings`. A metric defined elsewhere (another module, a test target) is one
/// `register` call on a copy of `standard`, with no change to this module:
///
///     var catalog = MetricCatalog.standard
///     catalog.register(MyMetric())
public struct MetricCatalog: Sendable {
    /// A parameterised family of metrics, such as `precision@k`.
    public struct Family: Sendable {
        /// The spelling with its parameter named (`precision@k`).
        public var pattern: String
        /// The display name with its parameter named (`P@k`).
        public var displayName: String
        /// Whether larger values are better, for every member.
        public var direction: MetricDirection
        /// What its members score (`retrieval`, ...).
        public var input: String
        /// The member a spelling names (`precision@10`), or nil when the spelling is not one.
        public var parse: @Sendable (String) -> (any Metric)?

        /// Describes a family.
        public init(pattern: String, displayName: String, direction: MetricDirection, input: String,
                    parse: @escaping @Sendable (String) -> (any Metric)?) {
            self.pattern = pattern
            self.displayName = displayName
            self.direction = direction
            self.input = input
            self.parse = parse
        }
    }

    /// One accepted spelling, for validation messages and docs.
    public struct Spelling: Sendable, Hashable {
        /// A metric name (`auroc`) or a family pattern (`precision@k`).
        public var name: String
        /// Its display name (`AUROC`, `P@k`).
        public var displayName: String
        /// Whether larger values are better.
        public var direction: MetricDirection
        /// Whether `name` is a family pattern rather than a name.
        public var isFamily: Bool
        /// What it scores.
        public var input: String
    }

    private var metricsByName: [String: any Metric] = [:]
    private var metricNames: [String] = []
    private var families: [Family] = []

    /// An empty catalog.
    public init() {}

    /// The built-in metrics: `auroc`, `auprc`, `mcc`, `accuracy`, `balanced-accuracy`, the
    /// calibration metrics `ece`, `adaptive-ece`, `brier`, `nll` with the families `ece@k` and
    /// `adaptive-ece@k`, and the retrieval family `precision@k`.
    public static let standard: MetricCatalog = {
        var catalog = MetricCatalog()
        catalog.register(AUROC())
        catalog.register(AUPRC())
        catalog.register(MCC())
        catalog.register(Accuracy())
        catalog.register(BalancedAccuracy())
        catalog.register(ExpectedCalibrationError())
        catalog.register(ExpectedCalibrationError(binning: .equalMass))
        catalog.register(BrierScore())
        catalog.register(NegativeLogLikelihood())
        catalog.register(PrecisionAtK.family)
        for family in ExpectedCalibrationError.families { catalog.register(family) }
        return catalog
    }()

    /// Adds a metric under its name.
    /// - Precondition: no metric of that name is registered (registering twice is a programming error).
    public mutating func register(_ metric: any Metric) {
        precondition(metricsByName[metric.name] == nil, "metric \(metric.name) is registered twice")
        metricsByName[metric.name] = metric
        metricNames.append(metric.name)
    }

    /// Adds a family of metrics.
    /// - Precondition: no family with that pattern is registered.
    public mutating func register(_ family: Family) {
        precondition(!families.contains { $0.pattern == family.pattern }, "metric family \(family.pattern) is registered twice")
        families.append(family)
    }

    /// The metric a spelling names: an exact name first, then the families in registration order.
    public func metric(named name: String) -> (any Metric)? {
        if let metric = metricsByName[name] { return metric }
        for family in families {
            if let metric = family.parse(name) { return metric }
        }
        return nil
    }

    /// The classification metric a spelling names, or nil when it names none (or a metric of
    /// another kind, such as `precision@10`).
    public func classificationMetric(named name: String) -> (any ClassificationMetric)? {
        metric(named: name) as? any ClassificationMetric
    }

    /// Every accepted spelling: names in registration order, then family patterns.
    public var spellings: [Spelling] {
        metricNames.map { name in
            let metric = metricsByName[name]!
            return Spelling(name: name, displayName: metric.displayName, direction: metric.direction, isFamily: false, input: metric.input)
        } + families.map { Spelling(name: $0.pattern, displayName: $0.displayName, direction: $0.direction, isFamily: true, input: $0.input) }
    }

    /// The names of the registered classification metrics, in registration order.
    public var classificationMetricNames: [String] {
        metricNames.filter { metricsByName[$0] is any ClassificationMetric }
    }
}

/// Precision@k of retrieval (`precision@10`, displayed `P@10`): the fraction of a query's k most
/// similar candidates that are relevant, averaged over queries (computed by `precisionAtK`).
public struct PrecisionAtK: Metric, Hashable {
    /// The number of retrieved candidates, at least 1.
    public let k: Int

    /// Precision at `k`.
    /// - Precondition: `k >= 1`.
    public init(k: Int) {
        precondition(k >= 1, "precision@k needs k >= 1")
        self.k = k
    }

    /// Parses `precision@<k>` with a positive decimal k; nil for any other spelling.
    public init?(name: String) {
        let prefix = "precision@"
        guard name.hasPrefix(prefix), let k = Int(name.dropFirst(prefix.count)), k >= 1,
              String(k) == name.dropFirst(prefix.count) else { return nil }
        self.k = k
    }

    /// `precision@<k>`.
    public var name: String { "precision@\(k)" }
    /// `P@<k>`.
    public var displayName: String { "P@\(k)" }
    /// Higher is better.
    public var direction: MetricDirection { .higherIsBetter }
    /// Retrieval.
    public var input: String { "retrieval" }

    /// The family `precision@k` for a catalog.
    public static let family = MetricCatalog.Family(pattern: "precision@k", displayName: "P@k", direction: .higherIsBetter, input: "retrieval") {
        PrecisionAtK(name: $0)
    }
}
