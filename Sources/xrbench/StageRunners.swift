import Engine

/// Everything this build of xrbench can run: the built-in backbone families, dataset adapters,
/// heads, task kinds, metrics and executors. Kinds added to the registry here are available to
/// every command (specs, `embed`, `kinds`, `dataset`).
func makeRegistry() -> Registry {
    .standard
}
