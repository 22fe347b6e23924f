import Pipeline

/// The runners of every built-in stage kind: `manifest`, `embed`, `split`, `probe`, `metric`,
/// `retrieval`, `bootstrap`, `compare`. The command line runs specs with these.
///
/// ```swift
/// let configuration = EngineConfiguration(runners: standardRunners())
/// let report = try Engine.run(specURL: URL(fileURLWithPath: "Experiments/demo.yaml"), configuration: configuration)
/// ```
public func standardRunners() -> StageRunnerRegistry {
    StageRunnerRegistry([
        ManifestRunner(), EmbedRunner(), SplitRunner(), ProbeRunner(), MetricRunner(),
        RetrievalRunner(), BootstrapRunner(), CompareRunner(),
    ])
}
