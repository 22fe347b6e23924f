// Activation functions, each as a new tensor or in place.

struct GELUKernel: UnaryKernel {
    var minimumChunk: Int { 1 << 12 }
    @inline(__always) func callAsFunction(_ x: Vector) -> Vector { VectorMath.gelu(x) }
}

struct SiLUKernel: UnaryKernel {
    var minimumChunk: Int { 1 << 12 }
    @inline(__always) func callAsFunction(_ x: Vector) -> Vector { VectorMath.silu(x) }
}

struct ReLUKernel: UnaryKernel {
    var minimumChunk: Int { 1 << 15 }
    @inline(__always) func callAsFunction(_ x: Vector) -> Vector {
        // NaN stays NaN, as in PyTorch.
        x.replacing(with: 0, where: x .< 0)
    }
}

struct ExpKernel: UnaryKernel {
    var minimumChunk: Int { 1 << 12 }
    @inline(__always) func callAsFunction(_ x: Vector) -> Vector { VectorMath.exp(x) }
}

/// GELU with the exact (erf) normal CDF, `x·Φ(x)`, as `torch.nn.GELU()` (not the tanh form).
///
/// Relative error ~1e-7 over the whole float range (vectorised erfc, see `VectorMath`).
/// - Complexity: O(count), split over the cores.
public func gelu(_ x: Tensor) -> Tensor { x.mapped(GELUKernel()) }

/// SiLU (swish), `x·σ(x)`, as `torch.nn.SiLU()`.
/// - Complexity: O(count), split over the cores.
public func silu(_ x: Tensor) -> Tensor { x.mapped(SiLUKernel()) }

/// ReLU, `max(x, 0)` (NaN propagates).
/// - Complexity: O(count), split over the cores.
public func relu(_ x: Tensor) -> Tensor { x.mapped(ReLUKernel()) }

/// e^x element-wise.
/// - Complexity: O(count), split over the cores.
public func exp(_ x: Tensor) -> Tensor { x.mapped(ExpKernel()) }

extension Tensor {
    /// Replaces every element by its exact-erf GELU (see `gelu(_:)`), without allocating.
    public mutating func geluInPlace() { mapInPlace(GELUKernel()) }

    /// Replaces every element by its SiLU (see `silu(_:)`), without allocating.
    public mutating func siluInPlace() { mapInPlace(SiLUKernel()) }

    /// Replaces every negative element by 0, without allocating.
    public mutating func reluInPlace() { mapInPlace(ReLUKernel()) }
}
