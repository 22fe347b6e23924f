// Decoding stored element types into Float32. Files are little-endian; so are all the
// platforms this package builds for (checked below), so values are read as stored.

#if _endian(big)
#error("Tensor file decoding assumes a little-endian host")
#endif

/// How the elements of a stored array are encoded.
enum ElementEncoding: Sendable {
    case bool, uint8, int8, int16, uint16, float16, bfloat16, int32, uint32, float32, int64, uint64, float64

    /// Bytes per element.
    var byteSize: Int {
        switch self {
        case .bool, .uint8, .int8: 1
        case .int16, .uint16, .float16, .bfloat16: 2
        case .int32, .uint32, .float32: 4
        case .int64, .uint64, .float64: 8
        }
    }
}

/// Converts `count` elements at `source` (any alignment) to Float32 at `destination`.
///
/// Integers become the nearest Float; F16 and BF16 convert exactly (BF16 is the upper half of a
/// Float32). Large arrays are split over the cores.
func decodeElements(
    _ encoding: ElementEncoding, from source: UnsafeRawPointer, count: Int,
    into destination: UnsafeMutablePointer<Float>
) {
    let size = encoding.byteSize
    Parallel.forEachChunk(count: count, minimumChunk: 1 << 16) { range in
        @inline(__always) func load<T>(_ type: T.Type, _ index: Int) -> T {
            source.loadUnaligned(fromByteOffset: index * size, as: T.self)
        }
        for index in range {
            let value: Float
            switch encoding {
            case .bool: value = load(UInt8.self, index) == 0 ? 0 : 1
            case .uint8: value = Float(load(UInt8.self, index))
            case .int8: value = Float(load(Int8.self, index))
            case .int16: value = Float(load(Int16.self, index))
            case .uint16: value = Float(load(UInt16.self, index))
            case .float16: value = floatFromHalf(load(UInt16.self, index))
            case .bfloat16: value = Float(bitPattern: UInt32(load(UInt16.self, index)) << 16)
            case .int32: value = Float(load(Int32.self, index))
            case .uint32: value = Float(load(UInt32.self, index))
            case .float32: value = load(Float.self, index)
            case .int64: value = Float(load(Int64.self, index))
            case .uint64: value = Float(load(UInt64.self, index))
            case .float64: value = Float(load(Double.self, index))
            }
            destination[index] = value
        }
    }
}

/// IEEE 754 binary16 bits to Float32, exactly (subnormals, infinities and NaN payloads kept).
@inline(__always)
func floatFromHalf(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x3FF)
    switch exponent {
    case 0:
        // Zero or subnormal: mantissa · 2^-24, exact in Float32.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    case 0x1F:
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    default:
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
}
