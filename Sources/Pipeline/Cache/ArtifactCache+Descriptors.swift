import Foundation

extension ArtifactCache {
    private func descriptorURL(_ key: StageKey) -> URL {
        root.appendingPathComponent("stages").appendingPathComponent(key.rawValue + ".json")
    }

    /// Persists the descriptors of `stages` (skipping ones already saved), so any stage can later
    /// run on its own, by key, in another process (`xrbench stage run KEY`, a cluster job).
    /// - Throws: `CacheError` when a descriptor cannot be written.
    public func saveDescriptors(_ stages: some Sequence<Stage>) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        for stage in stages {
            let url = descriptorURL(stage.key)
            if FileManager.default.fileExists(atPath: url.path) { continue }
            do {
                try encoder.encode(stage).write(to: url, options: .atomic)
            } catch {
                throw CacheError(path: url.path, problem: "cannot write the stage descriptor: \(error.localizedDescription)")
            }
        }
    }

    /// The descriptor of the stage with `key`.
    /// - Throws: `CacheError` when none was saved, it is unreadable, or its content does not hash to `key`.
    public func descriptor(_ key: StageKey) throws -> Stage {
        let url = descriptorURL(key)
        guard let data = try? Data(contentsOf: url) else {
            throw CacheError(path: url.path, problem: "no stage with key \(key) has been planned with this cache; run `xrbench plan` or `xrbench run` on its spec first")
        }
        guard let stage = try? JSONDecoder().decode(Stage.self, from: data), stage.key == key, stage.hasConsistentKey else {
            throw CacheError(path: url.path, problem: "the stage descriptor is unreadable or does not match its key; delete it and plan again")
        }
        return stage
    }

    /// Resolves a key prefix (as printed by `plan`) to the one saved descriptor it starts.
    /// - Throws: `CacheError` when no descriptor or several match.
    public func resolveKey(prefix: String) throws -> StageKey {
        let folder = root.appendingPathComponent("stages")
        let matches = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }
        guard matches.count == 1 else {
            throw CacheError(path: folder.path, problem: matches.isEmpty ? "no planned stage key starts with \(prefix)"
                             : "\(matches.count) planned stage keys start with \(prefix); give more digits")
        }
        return StageKey(String(matches[0].dropLast(5)))
    }

    /// Keys of every saved descriptor.
    public func descriptorKeys() -> Set<StageKey> {
        let folder = root.appendingPathComponent("stages")
        return Set(((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.map { StageKey(String($0.dropLast(5))) })
    }

    /// Removes the descriptor of `key`.
    public func removeDescriptor(_ key: StageKey) {
        try? FileManager.default.removeItem(at: descriptorURL(key))
    }
}
