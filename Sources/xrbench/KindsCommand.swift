import ArgumentParser
import Engine
import Foundation

extension XRBench {
    /// `xrbench kinds`: what this build can run, with every option.
    struct Kinds: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the backbone families, dataset adapters, heads, task kinds, metrics and executors, with their options.",
            discussion: """
            Every kind is one registration (docs/EXTENDING.md); specs, `xrbench embed` and these tables
            read the same one. The Markdown is the option reference in docs/SPEC.md.

            Examples:
              xrbench kinds
              xrbench kinds > kinds.md
            """)

        func run() throws {
            print(makeRegistry().optionTables(), terminator: "")
        }
    }
}
