import ArgumentParser
import Foundation
import Tensor

/// Process entry point: fixes OpenBLAS's kernel choice, then runs the command line.
@main
enum XRBenchMain {
    static func main() async {
        // OpenBLAS picks its kernels by CPU model: SSE3 ones (10x slower GEMMs) on CPUs newer than
        // the release, and kernel families that round differently on Intel and AMD CPUs with the
        // same vector units. This re-executes the process with OPENBLAS_CORETYPE pinned by
        // instruction set (BLASBackend.pinnedCoreType) before any work starts.
        BLASBackend.restartWithRecommendedCoreTypeIfNeeded()
        await XRBench.main()
    }
}

/// The `xrbench` command line: a declarative experiment-graph engine for X-ray foundation models.
struct XRBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xrbench",
        abstract: "Evaluate X-ray foundation models: embeddings, probes, retrieval and fairness, cached and recorded.",
        discussion: """
        Examples:
          xrbench run Experiments/demo.yaml
          xrbench plan Experiments/table2-classification.yaml
          xrbench query "SELECT backbone, fraction, avg(value) FROM latest_result WHERE metric = 'auroc' GROUP BY 1, 2"
          xrbench tables
          xrbench embed --model models/dinov2-base --images radiographs/ --tokens cls --out cls.npy
        """,
        version: xrbenchVersion,
        subcommands: [Embed.self, Run.self, Plan.self, StageCommands.self, CacheCommands.self,
                      Query.self, Runs.self, Tables.self, Phantom.self, Kinds.self, Dataset.self]
    )
}

/// The engine version recorded with every run.
let xrbenchVersion = "0.1.0"
