import ArgumentParser
import Engine
import Foundation

extension XRBench {
    /// `xrbench run SPEC`: computes what is not cached and records everything.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run an experiment spec: compute what is not cached, record every result.",
            discussion: """
            Validation errors are all reported before any work starts. Stages run in parallel under
            the --jobs thread budget; a failing stage stops only what depends on it, and the command
            then exits with status 1 and a summary. Ctrl-C stops cleanly (status 130); running the
            same command again resumes, as it does after a crash or kill -9.

            With --executor slurm the stages run as Slurm job arrays on a cluster whose nodes share
            the cache (docs/SLURM.md); Ctrl-C cancels the run's jobs. A killed run, run again,
            re-attaches to its jobs; --detach submits everything and returns, and running the same
            command again (or `xrbench runs --sync`) waits for the jobs and records their results.

            Examples:
              xrbench run Experiments/demo.yaml
              xrbench run Experiments/table2-classification.yaml --jobs 8 --cache /scratch/xrbench
              xrbench run Experiments/table2-classification.yaml --executor slurm --profile slurm.yaml --cache /shared/xrbench
            """)

        @Argument(help: ArgumentHelp("The spec file.", valueName: "SPEC"))
        var spec: String

        @OptionGroup var options: EngineOptions

        @Flag(name: .long, help: "No progress display on standard error.")
        var quiet = false

        @Flag(name: .long, help: "Submit every stage (slurm executor) and return; run again, or `xrbench runs --sync`, to collect the results.")
        var detach = false

        func run() throws {
            var configuration = options.configuration(progress: !quiet && !detach)
            configuration.detach = detach
            let report = try reportingEngineErrors {
                try Engine.run(specURL: URL(fileURLWithPath: spec), configuration: configuration)
            }
            print(report.summary)
            if report.exitCode != 0 { throw ExitCode(report.exitCode) }
        }
    }

    /// `xrbench plan SPEC`: what would run, what is cached.
    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the stages a spec compiles to, each cached, to run or blocked, with counts per kind.",
            discussion: """
            Examples:
              xrbench plan Experiments/demo.yaml
              xrbench plan Experiments/demo.yaml --format dot | dot -Tsvg > plan.svg
            """)

        @Argument(help: ArgumentHelp("The spec file.", valueName: "SPEC"))
        var spec: String

        @Option(name: .long, help: "text (stages and counts) or dot (Graphviz).")
        var format: PlanReport.Format = .text

        @OptionGroup var options: EngineOptions

        func run() throws {
            let report = try reportingEngineErrors {
                try Engine.plan(specURL: URL(fileURLWithPath: spec), configuration: options.configuration(progress: false))
            }
            print(report.rendered(format))
        }
    }
}

extension PlanReport.Format: ExpressibleByArgument {}
