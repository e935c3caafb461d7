// swift-tools-version: 6.0
import PackageDescription

// OFQL: One-Step Flow Q-Learning with a Box2D offline-RL evaluation suite.
//
// Layering (data flows one way):
//   CBox2D ─► Physics ─► Envs ──────┐
//   CHDF5  ─► HDF5 ─► Datasets ─────┼─► Rollout ─► ofql-eval
//   COpenBLAS ─► BLAS ─► OFQL ──────┘   (OFQL also uses COFQLKernels)
//
// No `unsafeFlags` anywhere, so every library product can be used as a dependency.
let package = Package(
    name: "ofql",
    products: [
        .library(name: "Physics", targets: ["Physics"]),
        .library(name: "BLAS", targets: ["BLAS"]),
        .library(name: "HDF5", targets: ["HDF5"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Envs", targets: ["Envs"]),
        .library(name: "OFQL", targets: ["OFQL"]),
        .library(name: "Rollout", targets: ["Rollout"]),
        .executable(name: "ofql-eval", targets: ["ofql-eval"]),
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
        .target(name: "Physics", dependencies: ["CBox2D"]),
        .target(name: "BLAS", dependencies: ["COpenBLAS"]),
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        .target(name: "Datasets", dependencies: ["HDF5"]),
        .target(name: "Envs", dependencies: ["Physics"]),
        .target(name: "OFQL", dependencies: ["BLAS", "HDF5", "Datasets", "COFQLKernels"]),
        .target(name: "Rollout", dependencies: ["Physics", "Envs", "OFQL", "HDF5", "BLAS", "Datasets"]),
        .executableTarget(
            name: "ofql-eval",
            dependencies: [
                "Physics", "BLAS", "HDF5", "Datasets", "Envs", "OFQL", "Rollout",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "PhysicsTests", dependencies: ["Physics"]),
        .testTarget(name: "BLASTests", dependencies: ["BLAS"]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "HDF5"], exclude: ["Fixtures"]),
        .testTarget(name: "EnvsTests", dependencies: ["Envs", "Physics"]),
        .testTarget(name: "MazeKitchenTests", dependencies: ["Envs", "Physics"]),
        .testTarget(name: "OFQLTests", dependencies: ["OFQL", "BLAS", "HDF5"]),
        .testTarget(name: "RolloutTests", dependencies: ["Rollout", "Envs", "OFQL", "HDF5"]),
        .testTarget(name: "CLITests", dependencies: ["ofql-eval", "Datasets"]),
    ],
    cxxLanguageStandard: .cxx17
)
