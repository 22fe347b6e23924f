// swift-tools-version: 6.1
// xrbench: a declarative experiment-graph engine for evaluating X-ray foundation models.
//
// Machine-specific code generation (`-target-cpu`) is passed by the Makefile, never here,
// so the package stays usable as a dependency (see docs/ARCHITECTURE.md).
import PackageDescription

let package = Package(
    name: "xrbench",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "xrbench", targets: ["xrbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // C libraries, wrapped as system-library targets found through pkg-config.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),
        // libpng reports errors by longjmp: this small C target catches them with setjmp.
        .target(name: "PNGDecoder", dependencies: ["CLibPNG"]),

        // Seeded generators: at the bottom, because Datasets (no tensors) needs them as much as
        // Models and Evaluation do.
        .target(name: "Random"),

        // Numerics and models.
        .target(name: "Tensor", dependencies: ["CBLAS"]),
        .target(name: "Imaging", dependencies: ["PNGDecoder", "CTurboJPEG"]),
        .target(name: "Models", dependencies: ["Tensor", "Random"]),
        .target(name: "Datasets", dependencies: ["Imaging", "Random"]),
        .target(name: "Evaluation", dependencies: ["Tensor", "Random"]),

        // Engine layer: knows nothing about tensors.
        .target(name: "Pipeline", dependencies: [
            .product(name: "Yams", package: "Yams"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Collections", package: "swift-collections"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Results", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // Slurm client: runs the Slurm commands and parses their output; knows nothing of stages
        // (the engine's Slurm executor uses it).
        .target(name: "Cluster"),
        .target(name: "Engine", dependencies: [
            "Pipeline", "Results", "Evaluation", "Models", "Datasets", "Imaging", "Tensor", "Cluster",
            .product(name: "Logging", package: "swift-log"),
        ]),

        .executableTarget(name: "xrbench", dependencies: [
            "Engine", "Pipeline", "Results", "Models", "Imaging", "Tensor", "Datasets", "Evaluation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `make bench`: a plain release executable, so CI never pays for a benchmark framework.
        .executableTarget(name: "xrbench-bench", dependencies: [
            "Tensor", "Models", "Evaluation", "Pipeline", "Results", "Engine", "Imaging", "Datasets", "Random", "Cluster",
        ]),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "RandomTests", dependencies: ["Random", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "Random", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Random", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Tensor", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Imaging", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Tensor", "Random", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "TestSupport"]),
        .testTarget(name: "ResultsTests", dependencies: ["Results", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Pipeline", "Results", "Datasets", "Imaging", "Evaluation", "Models",
                                                        "Tensor", "Cluster", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["Results", "Imaging", "Tensor", "TestSupport"]),
    ]
)
