import Testing
import TestSupport
@testable import Tensor

@Suite struct TensorCoreTests {
    @Test func initialisersAndSubscript() {
        var tensor = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(tensor.count == 6)
        #expect(tensor.rank == 2)
        #expect(tensor[1, 2] == 6)
        tensor[0, 1] = 9
        #expect(tensor.scalars == [1, 9, 3, 4, 5, 6])
        #expect(Tensor(zeros: [4]).scalars == [0, 0, 0, 0])
        #expect(Tensor(shape: [2], repeating: 7).scalars == [7, 7])
        #expect(Tensor(shape: [], scalars: [5]).count == 1)
        #expect(Tensor(zeros: [0, 3]).count == 0)
    }

    @Test func reshapeSharesStorageAndInfersOneAxis() {
        let tensor = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let reshaped = tensor.reshaped([3, -1])
        #expect(reshaped.shape == [3, 2])
        #expect(reshaped.storage === tensor.storage)
        var assigned = tensor
        assigned.shape = [6]
        #expect(assigned.scalars == tensor.scalars)
    }

    @Test func copyOnWriteKeepsValueSemantics() {
        let original = Tensor(shape: [3], scalars: [1, 2, 3])
        var copy = original
        copy.withUnsafeMutableBufferPointer { $0[0] = 100 }
        #expect(original.scalars == [1, 2, 3])
        #expect(copy.scalars == [100, 2, 3])
        // A uniquely owned tensor is mutated in place.
        let before = copy.storage.base  // the address only: holding the storage would share it
        copy[1] = 5
        #expect(copy.storage.base == before)
    }

    @Test func matmulMatchesNaiveProductWithTransposes() {
        let m = 7, k = 5, n = 3
        let a = randomTensor([m, k], seed: 1), b = randomTensor([k, n], seed: 2)
        let expected = naiveMatmul(a.scalars, b.scalars, m: m, k: k, n: n)
        expectClose(matmul(a, b).scalars, expected, tolerance: 1e-5, "A·B")
        let aT = Tensor(shape: [k, m], scalars: transposeArray(a.scalars, rows: m, columns: k))
        let bT = Tensor(shape: [n, k], scalars: transposeArray(b.scalars, rows: k, columns: n))
        expectClose(matmul(aT, b, transposeA: true).scalars, expected, tolerance: 1e-5, "Aᵀᵀ·B")
        expectClose(matmul(a, bT, transposeB: true).scalars, expected, tolerance: 1e-5, "A·Bᵀᵀ")
        expectClose(matmul(aT, bT, transposeA: true, transposeB: true, alpha: 2).scalars,
                    expected.map { 2 * $0 }, tolerance: 2e-5, "2·Aᵀᵀ·Bᵀᵀ")
        #expect(matmul(a, b).shape == [m, n])
    }

    @Test func batchedMatmulMatchesPerItemProducts() {
        let batch = 3, m = 4, k = 6, n = 5
        let a = randomTensor([batch, m, k], seed: 3), b = randomTensor([batch, k, n], seed: 4)
        let shared = randomTensor([k, n], seed: 5)
        let product = matmul(a, b), sharedProduct = matmul(a, shared)
        #expect(product.shape == [batch, m, n])
        for item in 0..<batch {
            let aItem = Array(a.scalars[(item * m * k)..<((item + 1) * m * k)])
            let bItem = Array(b.scalars[(item * k * n)..<((item + 1) * k * n)])
            let slice = (item * m * n)..<((item + 1) * m * n)
            expectClose(Array(product.scalars[slice]), naiveMatmul(aItem, bItem, m: m, k: k, n: n),
                        tolerance: 1e-5, "batch item \(item)")
            expectClose(Array(sharedProduct.scalars[slice]), naiveMatmul(aItem, shared.scalars, m: m, k: k, n: n),
                        tolerance: 1e-5, "shared item \(item)")
        }
        var output = Tensor(shape: [batch, m, n], repeating: 1)
        matmul(a, b, beta: 1, into: &output)
        expectClose(output.scalars, product.scalars.map { $0 + 1 }, tolerance: 1e-5, "beta accumulation")
    }
}

@Suite struct TensorSupportTests {
    @Test func initialisingInPlace() {
        let tensor = Tensor(shape: [2, 2]) { buffer in
            for index in buffer.indices { buffer[index] = Float(index) }
        }
        #expect(tensor.scalars == [0, 1, 2, 3])
    }

    @Test(arguments: [0, 1, 2, 3])
    func parallelChunksCoverTheRangeExactlyOnce(teamSize: Int) {
        // teamSize 0: Dispatch; otherwise a WorkerTeam of that many members.
        let team = teamSize > 0 ? WorkerTeam(size: teamSize) : nil
        for (count, minimum) in [(0, 1), (1, 1), (7, 1), (1000, 10), (1001, 1), (5, 100)] {
            let marks = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(count, 1))
            marks.initialize(repeating: 0)
            defer { marks.deallocate() }
            Parallel.forEachChunk(count: count, minimumChunk: minimum, on: team) { range in
                for index in range { marks[index] += 1 }
            }
            #expect(marks.prefix(count).allSatisfy { $0 == 1 }, "count \(count), minimum \(minimum), team \(teamSize)")
        }
    }

    @Test func blasBackendDescribesOpenBLAS() {
        #expect(BLASBackend.configuration.contains("OpenBLAS"))
        #expect(!BLASBackend.coreName.isEmpty && BLASBackend.coreName != "unknown")
        #expect(BLASBackend.threadCount >= 1)
        if let recommended = BLASBackend.recommendedCoreType {
            #expect(["Haswell", "SkylakeX"].contains(recommended))
        }
    }
}
