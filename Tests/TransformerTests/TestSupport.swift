import Foundation
import Tensor
import Testing
import Transformer

/// Paths of the committed fixtures (made by `Fixtures/models/make_model_fixtures.py`).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The model folders, by name.
    static func model(_ name: String) -> URL { root.appendingPathComponent("models/\(name)") }

    /// Every model folder.
    static let modelNames = ["llama-mha-f32", "llama-gqa-f32", "llama-tied-oldrope-f32", "llama-bf16", "llama-sharded-f32"]

    /// A safetensors file written by the Python `safetensors` library.
    static let pythonSafetensors = root.appendingPathComponent("safetensors/python-mixed.safetensors")
    /// The values `pythonSafetensors` holds.
    static let pythonSafetensorsValues = root.appendingPathComponent("safetensors/python-mixed.json")
}

/// Runs `body` with a new empty folder that is removed afterwards.
func withTemporaryFolder<Result>(_ body: (URL) throws -> Result) throws -> Result {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("TransformerTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try body(folder)
}

/// The bytes of a safetensors file with the given header text and data section; the length prefix
/// is the header's byte count unless `declaredLength` says otherwise.
func safetensorsBytes(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    let length = declaredLength ?? UInt64(json.count)
    return withUnsafeBytes(of: length.littleEndian) { Array($0) } + json + data
}

/// A JSON object read from a file, to be edited and written back.
func jsonObject(at url: URL) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    return try #require(object as? [String: Any])
}

/// Writes a JSON object to `url`.
func writeJSON(_ object: Any, to url: URL) throws {
    try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: url)
}

/// Small random tensors with the shapes tests need: matrices, a vector, a scalar and an empty one.
func sampleTensors(seed: UInt64) throws -> [String: Tensor] {
    var generator = SeededGenerator(seed: seed)
    return [
        "layer.weight": try Tensor.normal([3, 5], std: 2, generator: &generator),
        "layer.bias": try Tensor.normal([5], generator: &generator),
        "a/slashed.name": try Tensor.normal([2, 2, 2], generator: &generator),
        "scalar": Tensor(scalar: -3.5),
        "empty": try Tensor.zeros([0, 4]),
    ]
}
