import ArgumentParser
import Engine
import Foundation

extension XRBench {
    /// `xrbench run SPEC`: validates, compiles and runs a spec, resumably, recording every result.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run an experiment spec: compute what is not cached, record every result in the database.",
            discussion: """
            The spec is validated first (every problem reported at once, before any work). Stages
            already in the cache are not recomputed and add no rows; independent stages run in
            parallel under --jobs threads. A failing stage does not stop the others that do not
            depend on it; the run then exits with status 1 and lists the failures. Ctrl-C stops
            cleanly (status 130); running the same command again resumes.

            Examples:
              xrbench run Experiments/demo.yaml
              xrbench run Experiments/table2-classification.yaml --jobs 2 --db results/paper.sqlite
              xrbench run spec.yaml --cache /scratch/xrbench-cache
            """
        )

        @Argument(help: ArgumentHelp("The experiment spec (YAML).", valueName: "SPEC"))
        var spec: String

        @OptionGroup var options: EngineOptions

        func run() throws {
            var exitCode: Int32 = 0
            try failing {
                let report = try Engine.run(specURL: URL(fileURLWithPath: spec), configuration: options.configuration())
                print(report.summary)
                exitCode = report.exitCode
            }
            if exitCode != 0 { throw ExitCode(exitCode) }
        }
    }

    /// `xrbench plan SPEC`: what a run would do, without doing it.
    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the stages a spec compiles to and which are cached, to run, or blocked.",
            discussion: """
            Nothing is computed. The text format lists one stage per line (state, kind, short key,
            label) and then counts per kind; the dot format is a Graphviz graph coloured by state.

            Examples:
              xrbench plan Experiments/demo.yaml
              xrbench plan Experiments/demo.yaml --format dot | dot -Tsvg > plan.svg
            """
        )

        @Argument(help: ArgumentHelp("The experiment spec (YAML).", valueName: "SPEC"))
        var spec: String

        @Option(name: .long, help: "text or dot.")
        var format: PlanReport.Format = .text

        @OptionGroup var options: EngineOptions

        func run() throws {
            try failing {
                print(try Engine.plan(specURL: URL(fileURLWithPath: spec), configuration: options.configuration(progress: false)).rendered(format))
            }
        }
    }
}

extension PlanReport.Format: ExpressibleByArgument {}
