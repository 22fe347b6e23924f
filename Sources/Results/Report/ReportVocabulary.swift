/// How a table or figure names what it shows, and which way its metrics improve. Results knows
/// no backbone, task or metric by name: the caller (the command line) builds this from the spec's
/// `display:` names and `labels:` section and from the registry's metric registrations.
public struct ReportVocabulary: Sendable, Hashable {
    /// How a metric family is presented.
    public struct Metric: Sendable, Hashable {
        /// The table name of the family (`AUROC`); a parameter is appended (`P@10` from `P@`).
        public var displayName: String
        /// Whether larger values are better.
        public var higherIsBetter: Bool

        /// Creates a presentation.
        public init(displayName: String, higherIsBetter: Bool) {
            self.displayName = displayName
            self.higherIsBetter = higherIsBetter
        }
    }

    /// Display names by coordinate and raw value (`backbone`: `dinov2-base` → `DINOv2-B`).
    public var names: [ReportCoordinate: [String: String]]
    /// Metric presentations by family (`auroc`, `precision`).
    public var metrics: [String: Metric]

    /// Creates a vocabulary.
    public init(names: [ReportCoordinate: [String: String]] = [:], metrics: [String: Metric] = [:]) {
        self.names = names
        self.metrics = metrics
    }

    /// The shown name of a raw coordinate value (the raw value when none is declared).
    public func name(_ coordinate: ReportCoordinate, _ raw: String) -> String {
        names[coordinate]?[raw] ?? raw
    }

    /// The table name of a recorded metric: `AUROC`, `P@10`; the recorded name when unknown.
    public func metricName(_ recorded: String) -> String {
        let name = MetricName(recorded)
        guard let presentation = metrics[name.family] else { return recorded }
        var text = presentation.displayName
        if let parameter = name.parameter { text += text.hasSuffix("@") ? "\(parameter)" : "@\(parameter)" }
        if let bound = name.bound { text += " (\(bound == .low ? "CI low" : "CI high"))" }
        return text
    }

    /// Whether larger values of `recorded` are better (true for a metric the vocabulary does not know).
    public func higherIsBetter(_ recorded: String) -> Bool {
        metrics[MetricName(recorded).family]?.higherIsBetter ?? true
    }
}
