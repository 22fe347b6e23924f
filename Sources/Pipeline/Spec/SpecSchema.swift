/// The xrbench spec and registry schemas, in one place.
///
/// Dataset adapters and backbone kinds each have their own option fields; they are validated
/// here (so a typo in an adapter option is caught with a position like any other) and handed
/// to the adapter as an opaque map. Extend `datasetKinds` / `backboneKinds` when an adapter grows.
public enum SpecSchema {
    /// Option fields of every dataset adapter kind.
    public static let datasetKinds: [(name: String, schema: ObjectSchema)] = [
        ("phantom", ObjectSchema([
            SchemaField("count", .integer(.atLeastOne), required: true),
            SchemaField("seed", .integer(.nonNegative)),
            SchemaField("size", .integer(.atLeastOne)),
            SchemaField("bit_depth", .integer(.atLeastOne)),
            SchemaField("images_per_patient", .integer(.atLeastOne)),
            SchemaField("subgroup_effect", .number(.nonNegative)),
        ])),
        ("chexpert", ObjectSchema([
            SchemaField("root", .path(.directory), required: true),
            SchemaField("train_csv", .path(.file), required: true),
            SchemaField("valid_csv", .path(.file)),
            SchemaField("uncertainty", .anyOf([.string(choices: ["ones", "zeros", "ignore"]),
                                               .dictionary(.string(choices: ["ones", "zeros", "ignore"]), defines: nil)],
                                              summary: "ones|zeros|ignore or a mapping label → policy")),
            SchemaField("frontal_only", .boolean),
        ])),
        ("mura", ObjectSchema([
            SchemaField("root", .path(.directory), required: true),
            SchemaField("train_csv", .path(.file), required: true),
            SchemaField("valid_csv", .path(.file)),
        ])),
        ("csv", ObjectSchema([
            SchemaField("manifest", .path(.file), required: true),
            SchemaField("root", .path(.directory)),
            SchemaField("image_column", .string()),
            SchemaField("patient_column", .string()),
            SchemaField("study_column", .string()),
            SchemaField("split_column", .string()),
            SchemaField("label_columns", .list(.string(), minimumCount: 1)),
            SchemaField("attribute_columns", .list(.string())),
        ])),
    ]

    /// Option fields of every backbone kind.
    public static let backboneKinds: [(name: String, schema: ObjectSchema)] = [
        ("dinov2", ObjectSchema([
            SchemaField("path", .path(.directory), required: true),
            SchemaField("resolution", .integer(.atLeastOne)),
            SchemaField("mean", .list(.number(), minimumCount: 1)),
            SchemaField("std", .list(.number(.positive), minimumCount: 1)),
        ])),
        ("precomputed", ObjectSchema([
            SchemaField("embeddings", .path(.file), required: true),
            SchemaField("ids", .path(.file)),
            SchemaField("dimension", .integer(.atLeastOne)),
        ])),
        ("pixels", ObjectSchema([
            SchemaField("size", .integer(.atLeastOne)),
        ])),
        ("vit-tiny-random", ObjectSchema([
            SchemaField("seed", .integer(.nonNegative)),
            SchemaField("resolution", .integer(.atLeastOne)),
        ])),
    ]

    static let head = SchemaType.object(ObjectSchema([
        SchemaField("kind", .string(choices: HeadKind.allCases.map(\.rawValue)), required: true),
        SchemaField("hidden", .list(.integer(.atLeastOne))),
        SchemaField("dropout", .number(.probability)),
        SchemaField("batch_size", .integer(.atLeastOne)),
        SchemaField("learning_rate", .number(.positive)),
        SchemaField("weight_decay", .number(.nonNegative)),
        SchemaField("max_epochs", .integer(.atLeastOne)),
        SchemaField("early_stop_patience", .integer(.atLeastOne)),
        SchemaField("plateau_patience", .integer(.atLeastOne)),
    ]))

    static let subgroupCondition = SchemaType.anyOf(
        [.string(), .list(.string(), minimumCount: 1), .interval],
        summary: "a value, a list of values, or {min, max}")

    static let registrySections: [SchemaField] = [
        SchemaField("include", .list(.path(.file))),
        SchemaField("backbones", .dictionary(.variant(VariantSchema(variants: backboneKinds, optionsKey: "options")), defines: .backbone)),
        SchemaField("datasets", .dictionary(.variant(VariantSchema(variants: datasetKinds, optionsKey: "options")), defines: .dataset)),
        SchemaField("heads", .dictionary(head, defines: .head)),
        SchemaField("subgroups", .dictionary(.dictionary(subgroupCondition, defines: nil), defines: .subgroup)),
    ]

    static func matrix(_ axes: [SchemaField]) -> SchemaType {
        .object(ObjectSchema([
            SchemaField("backbone", .list(.reference(.backbone), minimumCount: 1), required: true),
            SchemaField("dataset", .list(.reference(.dataset), minimumCount: 1), required: true),
            SchemaField("features", .list(.string(choices: FeatureKind.allCases.map(\.rawValue)), minimumCount: 1)),
        ] + axes))
    }

    static let probeAxes: [SchemaField] = [
        SchemaField("head", .list(.reference(.head), minimumCount: 1)),
        SchemaField("fraction", .list(.number(.unitFraction), minimumCount: 1)),
        SchemaField("seed", .list(.integer(.nonNegative), minimumCount: 1)),
    ]

    static let sampleSet = SchemaType.object(ObjectSchema([
        SchemaField("subgroup", .reference(.subgroup)),
        SchemaField("file", .path(.file)),
    ]))

    static let probeFields: [SchemaField] = [
        SchemaField("labels", .list(.string(), minimumCount: 1), required: true),
        SchemaField("target", .string(choices: ClassificationTarget.allCases.map(\.rawValue))),
        SchemaField("aggregate", .string(choices: Aggregation.allCases.map(\.rawValue))),
        SchemaField("split", .object(ObjectSchema([
            SchemaField("validation", .number(.openUnit)),
            SchemaField("test", .number(.openUnit)),
        ]))),
        SchemaField("predictions", .boolean),
    ]

    static let task = SchemaType.variant(VariantSchema(
        common: [SchemaField("name", .definesName(.task), required: true), SchemaField("description", .string())],
        variants: [
            ("retrieval", ObjectSchema([
                SchemaField("k", .list(.integer(.atLeastOne), minimumCount: 1), required: true),
                SchemaField("relevance", .oneOrList(.string()), required: true),
                SchemaField("queries", sampleSet),
                SchemaField("candidates", sampleSet),
                SchemaField("matrix", matrix([]), required: true),
            ])),
            ("classification", ObjectSchema(probeFields + [
                SchemaField("metric", .oneOrList(.string(choices: Metric.allCases.map(\.rawValue))), required: true),
                SchemaField("matrix", matrix(probeAxes + [
                    SchemaField("train", .list(.reference(.subgroup), minimumCount: 1)),
                    SchemaField("test", .list(.reference(.subgroup), minimumCount: 1)),
                ]), required: true),
            ])),
            ("fairness", ObjectSchema(probeFields + [
                SchemaField("metric", .oneOrList(.string(choices: Metric.allCases.map(\.rawValue)))),
                SchemaField("bootstrap", .object(ObjectSchema([
                    SchemaField("replicates", .integer(.atLeastOne)),
                    SchemaField("seed", .integer(.nonNegative)),
                ]))),
                SchemaField("comparisons", .list(.list(.reference(.subgroup), minimumCount: 2), minimumCount: 1)),
                SchemaField("correction", .string(choices: Correction.allCases.map(\.rawValue))),
                SchemaField("matrix", matrix(probeAxes + [
                    SchemaField("train", .list(.reference(.subgroup), minimumCount: 1), required: true),
                    SchemaField("test", .list(.reference(.subgroup), minimumCount: 1), required: true),
                ]), required: true),
            ])),
        ]))

    static let coordinateNames = ["backbone", "dataset", "head", "features", "fraction", "seed", "train", "test", "label", "metric", "k"]

    static let table = SchemaType.object(ObjectSchema([
        SchemaField("name", .string(), required: true),
        SchemaField("tasks", .oneOrList(.reference(.task)), required: true),
        SchemaField("rows", .oneOrList(.string(choices: coordinateNames)), required: true),
        SchemaField("columns", .oneOrList(.string(choices: coordinateNames)), required: true),
        SchemaField("metric", .string(choices: Metric.allCases.map(\.rawValue) + ["precision@k"])),
        SchemaField("summary", .string(choices: TableSummary.allCases.map(\.rawValue))),
        SchemaField("caption", .string()),
    ]))

    static let figure = SchemaType.object(ObjectSchema([
        SchemaField("name", .string(), required: true),
        SchemaField("kind", .string(choices: FigureKind.allCases.map(\.rawValue)), required: true),
        SchemaField("task", .reference(.task), required: true),
        SchemaField("caption", .string()),
    ]))

    /// The top-level schema of a spec file.
    static let spec = SchemaType.object(ObjectSchema([
        SchemaField("experiment", .string(), required: true),
        SchemaField("description", .string()),
    ] + registrySections + [
        SchemaField("tasks", .list(task, minimumCount: 1), required: true),
        SchemaField("tables", .list(table)),
        SchemaField("figures", .list(figure)),
    ]))

    /// The top-level schema of a registry file (what `include:` brings in).
    static let registry = SchemaType.object(ObjectSchema(registrySections))
}
