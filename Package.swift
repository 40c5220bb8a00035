// swift-tools-version: 6.1
//
// Layers, each importing only the ones above it in this list:
//   CBLAS (OpenBLAS + LAPACKE) and CKernels (the package's few C SIMD kernels) → Tensor → Autograd → Transformer → PEFT → Comparison → peft (CLI), Examples.
//   SeededRandom (the seeded generator, no C) sits below Tensor and the task suite, which needs nothing else.
//   FuzzSupport (the fuzzing harness) sits on PEFT, beside Comparison; peft-fuzz is its command line.
//   HTTPServing (the OpenAI-compatible HTTP front end, on Hummingbird) sits on PEFT; `peft serve --http`
//   runs it and peft-loadtest drives it.
//   MPITraining (data-parallel training over MPI) sits on PEFT and alone sees CMPI (Open MPI); `peft train`
//   under `mpirun` uses it.
import Foundation
import PackageDescription

/// Whether Open MPI's development files are here (pkg-config `ompi-c`): with them `peft train` runs
/// data-parallel under `mpirun`; without them the package builds and tests without MPI.
/// `PEFT_MPI=0` or `1` overrides the detection. After installing or removing Open MPI, run
/// `swift package clean` so the manifest is read again.
let hasMPI: Bool = {
    let environment = ProcessInfo.processInfo.environment
    if let forced = environment["PEFT_MPI"] { return forced != "0" }
    let searched = (environment["PKG_CONFIG_PATH"] ?? "").split(separator: ":").map(String.init) + [
        "/usr/lib/x86_64-linux-gnu/pkgconfig", "/usr/lib/aarch64-linux-gnu/pkgconfig", "/usr/lib64/pkgconfig",
        "/usr/lib/pkgconfig", "/usr/share/pkgconfig", "/usr/local/lib/pkgconfig", "/opt/homebrew/lib/pkgconfig",
    ]
    return searched.contains { FileManager.default.fileExists(atPath: $0 + "/ompi-c.pc") }
}()

let package = Package(
    name: "swift-peft",
    products: [
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "Autograd", targets: ["Autograd"]),
        .library(name: "Transformer", targets: ["Transformer"]),
        .library(name: "PEFT", targets: ["PEFT"]),
        .library(name: "TaskSuite", targets: ["TaskSuite"]),
        .executable(name: "peft", targets: ["PEFTCommand"]),
        .executable(name: "quickstart", targets: ["quickstart"]),
        .executable(name: "peft-fuzz", targets: ["PEFTFuzz"]),
        .executable(name: "peft-loadtest", targets: ["PEFTLoadTest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The HTTP server, without its optional swift-configuration and full-Foundation traits.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // The HTTP client of the server's tests and of peft-loadtest.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        .target(name: "CKernels"),
        .target(name: "SeededRandom"),
        .target(name: "Tensor", dependencies: ["CBLAS", "CKernels", "SeededRandom"]),
        .target(name: "Autograd", dependencies: ["Tensor"]),
        .target(name: "Transformer", dependencies: ["Autograd"]),
        .target(name: "PEFT", dependencies: ["Transformer"]),
        .target(name: "TaskSuite", dependencies: ["SeededRandom"]),
        .target(name: "Comparison", dependencies: ["PEFT", "TaskSuite"]),
        // The terminal's progress line, for the command-line tool and the examples; the library
        // reports progress through callbacks.
        .target(name: "ProgressDisplay", dependencies: ["PEFT"]),
        // Pre-training a base model from text, which is not parameter-efficient fine-tuning.
        .target(name: "BasePretraining", dependencies: ["PEFT"]),
        // Data-parallel training over MPI (Documentation/DataParallelTraining.md); without Open MPI it
        // builds without CMPI and refuses to run under a launcher.
        .target(
            name: "MPITraining",
            dependencies: hasMPI ? ["PEFT", "CMPI"] : ["PEFT"],
            swiftSettings: hasMPI ? [.define("PEFT_MPI")] : []
        ),
        // The OpenAI-compatible HTTP server over the serving engine (Documentation/Serving.md).
        .target(
            name: "HTTPServing",
            dependencies: [
                "PEFT",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "PEFTCommand",
            dependencies: [
                "PEFT",
                "BasePretraining",
                "ProgressDisplay",
                "TaskSuite",  // `peft pretrain` learns from the suite's plain-text world
                "Comparison",
                "HTTPServing",
                "MPITraining",
                "CBLAS",  // only for `peft bench gemm`'s direct cblas_sgemm baseline
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The fuzzing harness (Documentation/Fuzzing.md): mutators, one target per parser that takes
        // outside bytes, and the supervisor that runs them in child processes; `peft-fuzz` is its
        // command line.
        .target(name: "FuzzSupport", dependencies: ["PEFT", "SeededRandom"]),
        .executableTarget(name: "PEFTFuzz", dependencies: ["FuzzSupport"]),
        // The HTTP load test: many clients against `peft serve --http` and the JSON Lines front end.
        .executableTarget(
            name: "PEFTLoadTest",
            dependencies: [
                "PEFT",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "ExampleSupport", dependencies: ["PEFT", "TaskSuite", "Comparison", "ProgressDisplay"], path: "Examples/ExampleSupport"),
        .executableTarget(name: "quickstart", dependencies: ["ExampleSupport"], path: "Examples/Quickstart"),
        .executableTarget(name: "iapt-example", dependencies: ["ExampleSupport"], path: "Examples/IAPT"),
        .executableTarget(name: "lora-example", dependencies: ["ExampleSupport"], path: "Examples/LoRA"),
        .executableTarget(name: "prompt-tuning-example", dependencies: ["ExampleSupport"], path: "Examples/PromptTuning"),
        .executableTarget(name: "custom-adapter-example", dependencies: ["ExampleSupport"], path: "Examples/CustomAdapter"),
        .executableTarget(name: "multi-tenant-example", dependencies: ["ExampleSupport"], path: "Examples/MultiTenant"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "AutogradTests", dependencies: ["Autograd"]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer"], exclude: ["Fixtures"]),
        .testTarget(name: "PEFTTests", dependencies: ["PEFT"], exclude: ["Fixtures"]),
        .testTarget(name: "TaskSuiteTests", dependencies: ["TaskSuite"]),
        .testTarget(name: "ComparisonTests", dependencies: ["Comparison"]),
        .testTarget(name: "PEFTCommandTests", dependencies: ["PEFTCommand"]),
        .testTarget(name: "ProgressDisplayTests", dependencies: ["ProgressDisplay"]),
        .testTarget(name: "BasePretrainingTests", dependencies: ["BasePretraining"]),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzSupport"]),
        .testTarget(name: "MPITrainingTests", dependencies: ["MPITraining", "PEFTCommand"]),
        .testTarget(
            name: "HTTPServingTests",
            dependencies: ["HTTPServing", "FuzzSupport", .product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
    ]
)
