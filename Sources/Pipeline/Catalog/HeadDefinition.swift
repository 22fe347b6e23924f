/// A head kind that reads more than the pooled embeddings (patch tokens, masks), as the spec
/// language sees it: tasks ask the embedding store for what it reads and check at plan time that
/// their datasets have the masks it trains on. Heads that only read pooled rows need not conform.
public protocol HeadDefinition: ComponentDefinition {
    /// What the head reads from each embedding besides CLS and mean-pooled tokens.
    /// - Parameter options: the validated options under the head's entry.
    func embeddingOutputs(_ options: [String: ParameterValue]) -> EmbeddingOutputs
    /// Whether the head trains on segmentation masks (its datasets must carry them).
    func needsMasks(_ options: [String: ParameterValue]) -> Bool
}

extension Catalog {
    /// What head `name` of `spec` reads beyond pooled rows (`.pooled` for an unknown head or one
    /// that reads nothing more).
    public func embeddingOutputs(ofHead name: String, in spec: Spec) -> EmbeddingOutputs {
        guard let entry = spec.heads[name], let definition = heads[entry.kind] as? any HeadDefinition else { return .pooled }
        return definition.embeddingOutputs(entry.options)
    }

    /// Whether head `name` of `spec` trains on masks.
    public func needsMasks(head name: String, in spec: Spec) -> Bool {
        guard let entry = spec.heads[name], let definition = heads[entry.kind] as? any HeadDefinition else { return false }
        return definition.needsMasks(entry.options)
    }
}
