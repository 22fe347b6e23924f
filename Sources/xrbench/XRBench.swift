import ArgumentParser
import Foundation

/// The `xrbench` command line: a declarative experiment-graph engine for X-ray foundation models.
@main
struct XRBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xrbench",
        abstract: "Evaluate X-ray foundation models: embeddings, probes, retrieval and fairness, cached and recorded.",
        discussion: """
        Examples:
          xrbench embed --model models/dinov2-base --images radiographs/ --tokens cls --out cls.npy
        """,
        version: xrbenchVersion,
        subcommands: [Embed.self]
    )
}

/// The engine version recorded with every run.
let xrbenchVersion = "0.1.0"
