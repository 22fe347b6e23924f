import Foundation

// Stage descriptors live in `stages/`: packs of many (`<name>.pack`, see `DescriptorPack`),
// which `saveDescriptors` writes, and single files (`<key>.json`), which caches written before
// packs hold and which are still read.
extension ArtifactCache {
    /// More packs than this are merged into one when descriptors are saved.
    static let maximumPackCount = 8

    private var stagesFolder: URL { root.appendingPathComponent("stages") }

    private func descriptorURL(_ key: StageKey) -> URL {
        stagesFolder.appendingPathComponent(key.rawValue + ".json")
    }

    private func folderEntries() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: stagesFolder.path)) ?? []
    }

    private func packs() -> [DescriptorPack] {
        folderEntries().filter { $0.hasSuffix("." + DescriptorPack.fileExtension) }.sorted()
            .compactMap { DescriptorPack(url: stagesFolder.appendingPathComponent($0)) }
    }

    private func singleFileKeys() -> [StageKey] {
        folderEntries().filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { StageKey(String($0.dropLast(5))) }
    }

    /// Persists the descriptors of `stages` (skipping ones already saved) in one new pack, so
    /// any stage can later run on its own, by key, in another process (`xrbench stage run KEY`,
    /// a cluster job). Merges the packs when there are more than `maximumPackCount`.
    /// - Throws: `CacheError` when the pack cannot be written.
    /// - Complexity: one directory listing, a scan of the existing packs' keys, one file written.
    public func saveDescriptors(_ stages: some Sequence<Stage>) throws {
        let saved = descriptorKeys()
        let lines = try DescriptorPack.lines(of: stages.lazy.filter { !saved.contains($0.key) })
        guard !lines.isEmpty else { return }
        try DescriptorPack.write(lines, in: stagesFolder)
        let all = packs()
        if all.count > Self.maximumPackCount { try merge(all) }
    }

    /// Replaces `packs` by one pack with all their descriptors.
    private func merge(_ packs: [DescriptorPack], dropping dropped: Set<StageKey> = []) throws {
        var byKey: [StageKey: [UInt8]] = [:]
        for pack in packs {
            for entry in pack.entries() where !dropped.contains(entry.key) { byKey[entry.key] = entry.line }
        }
        if !byKey.isEmpty {
            try DescriptorPack.write(byKey.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, in: stagesFolder)
        }
        for pack in packs { try? FileManager.default.removeItem(at: pack.url) }
    }

    /// The descriptor of the stage with `key`.
    /// - Throws: `CacheError` when none was saved, it is unreadable, or its content does not hash to `key`.
    public func descriptor(_ key: StageKey) throws -> Stage {
        let single = descriptorURL(key)
        var found: (data: Data, path: String)?
        if let data = try? Data(contentsOf: single) {
            found = (data, single.path)
        } else {
            // Twice: a pack listed the first time may have been merged away before it was opened.
            search: for _ in 0..<2 {
                for pack in packs() {
                    if let json = pack.json(for: key) {
                        found = (json, pack.url.path)
                        break search
                    }
                }
            }
        }
        guard let found else {
            throw CacheError(path: single.deletingLastPathComponent().path,
                             problem: "no stage with key \(key) has been planned with this cache; run `xrbench plan` or `xrbench run` on its spec first")
        }
        guard let stage = try? JSONDecoder().decode(Stage.self, from: found.data), stage.key == key, stage.hasConsistentKey else {
            throw CacheError(path: found.path, problem: "the descriptor of stage \(key) is unreadable or does not match its key; delete the file and plan again")
        }
        return stage
    }

    /// Resolves a key prefix (as printed by `plan`) to the one saved descriptor it starts.
    /// - Throws: `CacheError` when no descriptor or several match.
    public func resolveKey(prefix: String) throws -> StageKey {
        var matches = Set(singleFileKeys().filter { $0.rawValue.hasPrefix(prefix) })
        for pack in packs() { matches.formUnion(pack.keys(withPrefix: prefix, limit: 2)) }
        guard matches.count == 1, let key = matches.first else {
            throw CacheError(path: stagesFolder.path, problem: matches.isEmpty ? "no planned stage key starts with \(prefix)"
                             : "\(matches.count) planned stage keys start with \(prefix); give more digits")
        }
        return key
    }

    /// Keys of every saved descriptor.
    public func descriptorKeys() -> Set<StageKey> {
        var keys = Set(singleFileKeys())
        for pack in packs() { keys.formUnion(pack.keys()) }
        return keys
    }

    /// Removes the descriptors of `keys` (packs holding any are rewritten without them).
    public func removeDescriptors(_ keys: Set<StageKey>) {
        guard !keys.isEmpty else { return }
        for key in keys { try? FileManager.default.removeItem(at: descriptorURL(key)) }
        let affected = packs().filter { pack in pack.keys().contains(where: keys.contains) }
        if !affected.isEmpty { try? merge(affected, dropping: keys) }
    }

    /// Removes the descriptor of `key`.
    public func removeDescriptor(_ key: StageKey) {
        removeDescriptors([key])
    }
}
