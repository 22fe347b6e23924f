import ArgumentParser
import Foundation
import Tensor

/// Process entry point: fixes OpenBLAS's kernel choice, then runs the command line.
@main
enum XRBenchMain {
    static func main() async {
        // OpenBLAS releases that predate the CPU fall back to SSE3 kernels (10x slower GEMMs);
        // this re-executes the process with the right OPENBLAS_CORETYPE before any work starts.
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
