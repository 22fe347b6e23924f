import ArgumentParser
import Engine
import Foundation

extension XRBench {
    /// `xrbench dataset SPEC NAME`: a dataset as its adapter reads it, before any run.
    struct Dataset: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Describe a dataset of a spec as its adapter reads it: rows, patients, splits, label, attribute and mask counts.",
            discussion: """
            What to check before trusting a run, without reading any image: how many rows, patients and
            studies the adapter found, the official split sizes, the count of each label value (1, 0,
            uncertain, missing, or each class) and of each attribute value (sex, age bins, view). For a
            segmentation dataset (phantom with masks, csv with mask columns, siim-acr, jsrt, vindr-ribcxr)
            also, per class, the images with a non-empty mask and the mask pixels (this reads every mask).

            Examples:
              xrbench dataset Experiments/table2-classification.yaml chexpert
              xrbench dataset Experiments/demo.yaml phantom --splits --format json > phantom.json
            """)

        /// Output formats.
        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        @Argument(help: ArgumentHelp("The spec (or registry) that defines the dataset.", valueName: "SPEC"))
        var spec: String

        @Argument(help: ArgumentHelp("The dataset's name in the spec.", valueName: "NAME"))
        var name: String

        @Option(name: .long, help: "text (aligned tables) or json.")
        var format: Format = .text

        @Flag(name: .long, help: "Also count each official split separately.")
        var splits = false

        @OptionGroup var options: EngineOptions

        func run() throws {
            let description = try reportingEngineErrors {
                try Engine.describeDataset(specURL: URL(fileURLWithPath: spec), name: name, perOfficialSplit: splits,
                                           configuration: options.configuration(progress: false))
            }
            print(format == .json ? description.json() : description.text(), terminator: "")
        }
    }
}
