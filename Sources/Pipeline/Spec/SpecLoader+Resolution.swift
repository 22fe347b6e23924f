// The `resolution` matrix axis (paper Table 6): a backbone evaluated at several input sizes, each
// its own embedding. The loader expands it before anything else reads the spec: every (backbone,
// resolution) of a task becomes a backbone entry of its own, `<backbone>@<resolution>`, with the
// family's `resolution` option set, so embed stages, embedding spaces, results coordinates and
// table rows are per resolution without any other layer knowing the axis. Position embeddings are
// interpolated as for any resolution (the family's own handling).

extension SpecLoader {
    /// The name of `backbone` evaluated at `resolution` pixels.
    public static func backboneName(_ backbone: String, resolution: Int) -> String { "\(backbone)@\(resolution)" }

    /// Replaces each task's `resolution` axis by derived backbone entries.
    /// - Throws: `SpecError` for a backbone whose family has no `resolution` option, or a
    ///   resolution its family rejects (not a multiple of the patch size), at the axis entry.
    func expandResolutions(_ spec: Spec) throws -> Spec {
        var spec = spec
        var diagnostics: [SpecDiagnostic] = []
        for (taskIndex, task) in spec.tasks.enumerated() {
            guard let resolutions = task.matrix.integers("resolution") else { continue }
            var derived: [String] = []
            for backbone in task.matrix.backbone {
                guard let entry = spec.backbones[backbone], let definition = catalog.backbones[entry.kind] else { continue }
                guard definition.options.contains(where: { $0.name == "resolution" }) else {
                    let keyPath = task.keyPath("matrix.resolution")
                    diagnostics.append(SpecDiagnostic(kind: .badValue, location: spec.location(of: keyPath), keyPath: keyPath,
                                                      message: "backbone \"\(backbone)\" (\(entry.kind)) has no input resolution to vary; "
                                                          + "list it in a task without `resolution:`"))
                    continue
                }
                for (position, resolution) in resolutions.enumerated() {
                    var options = entry.options
                    options["resolution"] = .integer(resolution)
                    let keyPath = task.keyPath("matrix.resolution[\(position)]")
                    // Problems of the other options are the entry's own, reported there once.
                    for problem in definition.check(options) where problem.path == "resolution" {
                        diagnostics.append(SpecDiagnostic(kind: .badValue, location: spec.location(of: keyPath), keyPath: keyPath,
                                                          message: "backbone \"\(backbone)\" at \(resolution) px: \(problem.message)"))
                    }
                    let name = Self.backboneName(backbone, resolution: resolution)
                    var variant = entry
                    variant.options = options
                    variant.display = "\(entry.display ?? backbone) \(resolution) px"
                    spec.backbones[name] = variant
                    if let location = spec.locations["backbones.\(backbone)"] { spec.locations["backbones.\(name)"] = location }
                    derived.append(name)
                }
            }
            var axes = task.matrix.axes
            axes["backbone"] = derived.map(ParameterValue.string)
            axes["resolution"] = nil
            spec.tasks[taskIndex].matrix = TaskMatrix(axes: axes)
        }
        if !diagnostics.isEmpty { throw SpecError(diagnostics: diagnostics) }
        return spec
    }
}
