import Tensor

/// Keeps OpenBLAS to one thread per call while stages run.
///
/// The scheduler already spreads work over the cores: it grants each stage its threads and runs
/// probes, metrics and retrievals side by side, one thread each; the ViT forward pass splits its
/// GEMMs over the cores itself (with single-threaded BLAS). OpenBLAS's own thread pool on top of
/// that oversubscribes the cores: a probe's small GEMMs then spend more time spinning in the
/// kernel than computing (measured on 2 cores: 100 epochs of a 420-sample MLP probe took 3.5 s
/// wall, 2.0 s of it system time, against 1.2 s with one BLAS thread).
enum BLASThreads {
    /// Sets OpenBLAS to one thread per call (process-wide, idempotent).
    static func useOneThreadPerCall() {
        BLASBackend.threadCount = 1
    }
}
