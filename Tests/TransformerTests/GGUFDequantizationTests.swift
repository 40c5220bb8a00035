import Foundation
import Tensor
import Testing
import Transformer

/// Dequantisation of every supported ggml type against gguf-py's `gguf.quants.dequantize`
/// (fixtures from `Fixtures/gguf/make_gguf_fixtures.py`).
@Suite("GGUF dequantisation")
struct GGUFDequantizationTests {
    struct Manifest: Decodable {
        struct Entry: Decodable {
            let name: String
            let shape: [Int]
            let first: Int
        }
        let tensors: [Entry]
    }

    @Test("Every supported type dequantises exactly as gguf-py does")
    func matchesGGUFPy() throws {
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: Fixtures.gguf("quants.json")))
        let expectedBytes = try Data(contentsOf: Fixtures.gguf("quants-expected.f32"))
        let expected = expectedBytes.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        let file = try GGUFFile(contentsOf: Fixtures.gguf("quants.gguf"))
        #expect(Set(manifest.tensors.map(\.name)) == Set(GGMLType.dequantizable.map(\.name)))
        for entry in manifest.tensors {
            let info = try #require(file.info(entry.name))
            #expect(info.type.name == entry.name)
            let tensor = try file.tensor(named: entry.name)
            #expect(tensor.shape == entry.shape)
            let reference = expected[entry.first..<(entry.first + tensor.count)]
            var worst: Float = 0
            var bitIdentical = true
            for (value, wanted) in zip(tensor.scalars, reference) {
                worst = max(worst, abs(value - wanted))
                bitIdentical = bitIdentical && value.bitPattern == wanted.bitPattern
            }
            print("GGUF dequantisation \(entry.name): max |Δ| = \(worst), bit-identical: \(bitIdentical)")
            #expect(worst <= 1e-6, "\(entry.name): max |Δ| = \(worst)")
        }
    }
}
