/// The spec and registry schemas, built from a catalog.
///
/// Backbone, dataset and head kinds each contribute their option fields, task kinds their own
/// fields and matrix axes; so a typo in any option is caught with a position like any other,
/// and adding a kind to the catalog is all it takes to make the spec language accept it.
struct SpecSchema {
    let catalog: Catalog

    /// Variants sorted by name, so listings in messages are stable.
    private func variants(_ definitions: [String: any ComponentDefinition]) -> [(name: String, schema: ObjectSchema)] {
        definitions.keys.sorted().map { ($0, ObjectSchema(definitions[$0]!.options)) }
    }

    private var display: SchemaField { SchemaField("display", .string()) }
    private var onError: SchemaField { SchemaField("on_error", .string(choices: ["fail", "skip"])) }

    static let subgroupCondition = SchemaType.anyOf(
        [.string(), .list(.string(), minimumCount: 1), .interval],
        summary: "a value, a list of values, or {min, max}")

    var registrySections: [SchemaField] {
        let datasets = catalog.datasets.mapValues { $0 as any ComponentDefinition }
        return [
            SchemaField("include", .list(.path(.file))),
            SchemaField("backbones", .dictionary(.variant(VariantSchema(common: [display], variants: variants(catalog.backbones),
                                                                        optionsKey: "options")), defines: .backbone)),
            SchemaField("datasets", .dictionary(.variant(VariantSchema(common: [display, onError], variants: variants(datasets),
                                                                       optionsKey: "options")), defines: .dataset)),
            SchemaField("heads", .dictionary(.variant(VariantSchema(common: [display], variants: variants(catalog.heads),
                                                                    optionsKey: "options")), defines: .head)),
            SchemaField("subgroups", .dictionary(.dictionary(Self.subgroupCondition, defines: nil), defines: .subgroup)),
            SchemaField("labels", .dictionary(.string(), defines: nil)),
        ]
    }

    /// A task kind's matrix: `backbone`, `dataset` and `resolution` (input sizes each backbone is
    /// evaluated at, expanded by the loader into backbones of their own), then its own axes.
    static func matrix(_ axes: [SchemaField]) -> SchemaType {
        .object(ObjectSchema([
            SchemaField("backbone", .list(.reference(.backbone), minimumCount: 1), required: true),
            SchemaField("dataset", .list(.reference(.dataset), minimumCount: 1), required: true),
            SchemaField("resolution", .list(.integer(NumberRange(lower: 1, upper: 8192)), minimumCount: 1)),
        ] + axes))
    }

    var task: SchemaType {
        .variant(VariantSchema(
            common: [SchemaField("name", .definesName(.task), required: true), SchemaField("description", .string()), display],
            variants: catalog.tasks.keys.sorted().map { name in
                let definition = catalog.tasks[name]!
                return (name, ObjectSchema(definition.fields + [SchemaField("matrix", Self.matrix(definition.axes), required: true)]))
            },
            optionsKey: "options", optionsKeepYAMLNames: false))
    }

    static let coordinateNames = ["task", "backbone", "dataset", "head", "features", "fraction", "shots", "seed", "train", "test", "label", "metric", "k"]

    static let table = SchemaType.object(ObjectSchema([
        SchemaField("name", .string(), required: true),
        SchemaField("tasks", .oneOrList(.reference(.task)), required: true),
        SchemaField("rows", .oneOrList(.string(choices: coordinateNames)), required: true),
        SchemaField("columns", .oneOrList(.string(choices: coordinateNames)), required: true),
        SchemaField("metric", .metric(input: nil)),
        SchemaField("summary", .string(choices: TableSummary.allCases.map(\.rawValue))),
        SchemaField("show_count", .boolean),
        SchemaField("significance", .object(ObjectSchema([
            SchemaField("alpha", .number(.openUnit)),
            SchemaField("correction", .string(choices: ["holm", "none"])),
        ]))),
        SchemaField("kind", .string(choices: TableKind.allCases.map(\.rawValue))),
        SchemaField("reference", .reference(.backbone)),
        SchemaField("caption", .string()),
    ]))

    static let figure = SchemaType.object(ObjectSchema([
        SchemaField("name", .string(), required: true),
        SchemaField("kind", .string(choices: FigureKind.allCases.map(\.rawValue)), required: true),
        SchemaField("task", .reference(.task), required: true),
        SchemaField("caption", .string()),
    ]))

    /// The top-level schema of a spec file.
    var spec: SchemaType {
        .object(ObjectSchema([
            SchemaField("experiment", .string(), required: true),
            SchemaField("description", .string()),
            SchemaField("small_sample", .integer(.atLeastOne)),
        ] + registrySections + [
            SchemaField("tasks", .list(task, minimumCount: 1), required: true),
            SchemaField("tables", .list(Self.table)),
            SchemaField("figures", .list(Self.figure)),
            SchemaField("executors", executors),
        ]))
    }

    /// `executors:`: a profile per executor, with the fields its registration declares.
    var executors: SchemaType {
        .object(ObjectSchema(catalog.executors.keys.sorted().map { SchemaField($0, .object(ObjectSchema(catalog.executors[$0]!))) }))
    }

    /// The top-level schema of a registry file (what `include:` brings in).
    var registry: SchemaType { .object(ObjectSchema(registrySections)) }
}
