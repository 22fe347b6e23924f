import Pipeline
import Results

extension Registry {
    /// The built-in kinds: every line is one registration.
    public static var standard: Registry {
        var registry = Registry()
        // Stage kinds every spec shares.
        registry.register(runner: ManifestRunner())
        registry.register(runner: EmbedRunner())
        // Backbone families.
        registry.register(backbone: DINOv2Family())
        registry.register(backbone: TinyRandomViTFamily())
        registry.register(backbone: PixelsFamily())
        registry.register(backbone: PrecomputedFamily())
        // Dataset adapters.
        registry.register(dataset: PhantomAdapter())
        registry.register(dataset: CheXpertAdapter())
        registry.register(dataset: MURAAdapter())
        registry.register(dataset: CSVAdapter())
        registry.register(dataset: NIHAdapter())
        // Probe heads.
        registry.register(head: MLPHead())
        registry.register(head: LinearHead())
        // Task kinds, with the runners of their stages.
        registry.register(task: RetrievalTask())
        registry.register(task: ClassificationTask())
        registry.register(task: FairnessTask())
        // Metrics.
        for metric in Metric.allCases {
            registry.register(metric: MetricSpelling(spelling: metric.rawValue, input: "classification",
                                                     displayName: metric == .auroc ? "AUROC" : metric == .mcc ? "MCC" : "Accuracy",
                                                     higherIsBetter: true))
        }
        registry.register(metric: MetricSpelling(spelling: "precision@k", input: "retrieval", displayName: "P@k", higherIsBetter: true,
                                                 matches: { text in
                                                     let name = MetricName(text)
                                                     return text == "precision@k" || (name.family == "precision" && (name.parameter ?? 0) >= 1
                                                                                      && name.bound == nil)
                                                 }))
        // Executors.
        registry.register(executor: LocalExecutorKind())
        return registry
    }
}
