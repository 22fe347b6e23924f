import Engine

/// Everything this build of xrbench can run: the built-in backbone families, dataset adapters,
/// heads, task kinds, metrics and executors. Kinds added to the registry here are available to
/// every command (specs, `embed`, `kinds`, `dataset`).
/// - Parameter shardImages: images per embedding shard (`--shard-images`).
func makeRegistry(shardImages: Int = 256) -> Registry {
    var registry = Registry.standard
    if shardImages != 256 { registry.register(runner: EmbedRunner(shardImages: shardImages)) }
    return registry
}
