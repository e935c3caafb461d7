// swift-tools-version: 6.0
import PackageDescription

// OFQL: One-Step Flow Q-Learning with a Box2D offline-RL evaluation suite.
//
// Layering (data flows one way):
//   CBox2D ─► Physics ─► Envs ──────┐
//   CHDF5  ─► HDF5 ─► Datasets ─────┼─► Rollout ─► Experiments ─► ofql-eval
//   COpenBLAS ─► BLAS ─► OFQL ──────┘   (OFQL also uses COFQLKernels)
//   Randomness (seeded generators, one normal sampler) sits below Envs and OFQL.
//
// No `unsafeFlags` anywhere, so every library product can be used as a dependency.
let package = Package(
    name: "ofql",
    products: [
        .library(name: "Physics", targets: ["Physics"]),
        .library(name: "Randomness", targets: ["Randomness"]),
        .library(name: "BLAS", targets: ["BLAS"]),
        .library(name: "HDF5", targets: ["HDF5"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Envs", targets: ["Envs"]),
        .library(name: "OFQL", targets: ["OFQL"]),
        .library(name: "Rollout", targets: ["Rollout"]),
        .library(name: "Experiments", targets: ["Experiments"]),
        .executable(name: "ofql-eval", targets: ["ofql-eval"]),
        // The C ABI for Python (python/ofql_suite) and other hosts.
        .library(name: "ofqlsuite", type: .dynamic, targets: ["OFQLSuiteC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Plain-C header over Box2D 2.4.1 (C++); Swift never sees a C++ type.
        .target(name: "CBox2D", linkerSettings: [.linkedLibrary("box2d")]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        // AVX2+FMA elementwise kernels (Mish, Adam) selected at run time; portable C fallback.
        .target(name: "COFQLKernels"),
        .target(name: "Randomness"),
        .target(name: "Physics", dependencies: ["CBox2D"]),
        .target(name: "BLAS", dependencies: ["COpenBLAS"]),
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        .target(name: "Datasets", dependencies: ["HDF5"]),
        .target(name: "Envs", dependencies: ["Physics", "Randomness"]),
        .target(name: "OFQL", dependencies: ["BLAS", "Datasets", "COFQLKernels", "Randomness"]),
        .target(name: "Rollout", dependencies: ["Physics", "Envs", "OFQL", "HDF5", "BLAS", "Datasets", "Randomness"]),
        .target(name: "OFQLSuiteC", dependencies: ["Envs", "Physics", "Datasets"]),
        // Run orchestration (training runs, suites, reports): the CLI only parses and prints.
        .target(name: "Experiments", dependencies: ["BLAS", "Datasets", "Envs", "OFQL", "Rollout", "Randomness"]),
        .executableTarget(
            name: "ofql-eval",
            dependencies: [
                "Physics", "BLAS", "HDF5", "Datasets", "Envs", "OFQL", "Rollout", "Randomness", "Experiments",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers shared by every test target (paths, temporary folders, numerics).
        .target(name: "TestSupport", dependencies: ["Randomness"], path: "Tests/TestSupport"),
        .testTarget(name: "PhysicsTests", dependencies: ["Physics"]),
        .testTarget(name: "BLASTests", dependencies: ["BLAS"]),
        .testTarget(name: "HDF5Tests", dependencies: ["TestSupport", "HDF5"]),
        .testTarget(name: "DatasetsTests", dependencies: ["TestSupport", "Datasets", "HDF5"], exclude: ["Fixtures"]),
        .testTarget(name: "EnvsTests", dependencies: ["TestSupport", "Envs", "Physics", "Randomness"]),
        .testTarget(name: "MazeKitchenTests", dependencies: ["TestSupport", "Envs", "Physics", "Randomness"]),
        .testTarget(name: "OFQLTests", dependencies: ["TestSupport", "OFQL", "BLAS", "HDF5", "Datasets", "Randomness"]),
        .testTarget(name: "RolloutTests", dependencies: ["TestSupport", "Rollout", "Envs", "OFQL", "HDF5", "Datasets", "Randomness"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["TestSupport", "Experiments", "OFQL", "Rollout", "Datasets", "Randomness"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "ofql-eval", "Datasets"]),
    ],
    cxxLanguageStandard: .cxx17
)
