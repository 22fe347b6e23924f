import Evaluation
import Pipeline

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
        registry.register(dataset: SIIMAdapter())
        registry.register(dataset: JSRTAdapter())
        registry.register(dataset: VinDrRibCXRAdapter())
        // Probe heads.
        registry.register(head: MLPHead())
        registry.register(head: LinearHead())
        registry.register(head: NearestNeighbourHead())
        for variant in PatchHeadKind.Variant.allCases { registry.register(head: PatchHeadKind(variant)) }
        // Task kinds, with the runners of their stages.
        registry.register(task: RetrievalTask())
        registry.register(task: ClassificationTask())
        registry.register(task: FairnessTask())
        registry.register(task: SegmentationTask())
        // Metrics: the built-in classification and calibration metrics, the precision@k family,
        // the ECE families with a bin count (ece@k, adaptive-ece@k) and the segmentation metrics.
        for spelling in MetricCatalog.standard.spellings where !spelling.isFamily {
            registry.register(metric: MetricCatalog.standard.metric(named: spelling.name)!)
        }
        registry.register(metricFamily: PrecisionAtK.family)
        for family in ExpectedCalibrationError.families { registry.register(metricFamily: family) }
        for metric in SegmentationMetricName.allCases { registry.register(metric: metric) }
        // Executors.
        registry.register(executor: LocalExecutorKind())
        registry.register(executor: SlurmExecutorKind())
        return registry
    }
}
