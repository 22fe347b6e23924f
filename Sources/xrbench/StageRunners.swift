import Engine

/// The stage runners this build of xrbench has, by kind. Kinds without a runner plan as
/// "blocked" and, when run, fail with a message naming the kind; everything else still runs.
/// Stage-runner implementations register here.
func makeStageRunners() -> StageRunnerRegistry {
    standardRunners()
}
