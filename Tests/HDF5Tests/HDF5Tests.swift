import Foundation
import Testing
import TestSupport
@testable import HDF5

// Files are opened without HDF5 file locking (HDF5File.accessList), so a forked child that
// inherited a descriptor cannot block another test reopening the same file.

func makeTempDir() -> String { makeTemporaryDirectory("h5") }

@Suite("HDF5 round trips and errors")
struct HDF5Tests {
    @Test("every supported type and attribute round-trips, chunked and gzip-compressed")
    func roundTrip() throws {
        let dir = makeTempDir()
        defer { removeTree(dir) }
        let path = dir + "/round.h5"
        let f32: [Float] = (0..<(1000 * 3)).map { Float($0) * 0.25 - 7 }
        let f64: [Double] = (0..<50).map { Double($0) / 3 }
        let i32: [Int32] = [Int32.min, -1, 0, 1, Int32.max]
        let i64: [Int64] = [Int64.min, 0, Int64.max]
        let u8: [UInt8] = [0, 1, 127, 255]
        let i8: [Int8] = [-128, 0, 127]
        let bools: [Bool] = (0..<77).map { $0 % 3 == 0 }
        do {
            let f = try HDF5File.create(path)
            try f.write("observations", f32, shape: [1000, 3])
            try f.write("f64", f64, shape: [50])
            try f.write("i32", i32, shape: [5])
            try f.write("i64", i64, shape: [3])
            try f.write("u8", u8, shape: [2, 2])
            try f.write("i8", i8, shape: [3])
            try f.writeBool("terminals", bools, shape: [77])
            try f.write("empty", [Float](), shape: [0, 4])
            try f.write("infos/goal", [Float](repeating: 1, count: 6), shape: [3, 2])
            try f.writeString("metadata/name", "hopper-medium-v1 ✓")
            let meta = try f.group("metadata")
            try meta.setAttribute("env", .string("hopper ü"))
            try meta.setAttribute("size", .int(1_000_000))
            try meta.setAttribute("score", .double(-3.5))
            try meta.setAttribute("ref", .doubles([1, 2.5]))
            try f.setAttribute("root", .int(7))
        }
        let f = try HDF5File.open(path)
        #expect(try f.read("observations", as: Float.self).values == f32)
        #expect(try f.read("observations", as: Float.self).shape == [1000, 3])
        #expect(try f.read("f64", as: Double.self).values == f64)
        #expect(try f.read("i32", as: Int32.self).values == i32)
        #expect(try f.read("i64", as: Int64.self).values == i64)
        #expect(try f.read("u8", as: UInt8.self) == (values: u8, shape: [2, 2]))
        #expect(try f.read("i8", as: Int8.self).values == i8)
        #expect(try f.readBool("terminals").values == bools)
        #expect(try f.read("empty", as: Float.self).shape == [0, 4])
        #expect(try f.read("infos/goal", as: Float.self).shape == [3, 2])
        #expect(try f.readString("metadata/name") == "hopper-medium-v1 ✓")
        let meta = try f.openGroup("metadata")
        #expect(try meta.attribute("env") == .string("hopper ü"))
        #expect(try meta.attribute("size") == .int(1_000_000))
        #expect(try meta.attribute("score") == .double(-3.5))
        #expect(try meta.attribute("ref") == .doubles([1, 2.5]))
        #expect(try f.attribute("root") == .int(7))
        #expect(try meta.attributeNames().sorted() == ["env", "ref", "score", "size"])
        #expect(try f.memberNames() == ["empty", "f64", "i32", "i64", "i8", "infos", "metadata", "observations", "terminals", "u8"])
        #expect(f.isGroup("infos") && !f.isGroup("observations"))
        let info = try f.info("observations")
        #expect(info.type == .float32 && info.compressed && info.chunks?.count == 2)
        // Booleans are stored as h5py's enum, so numpy reads dtype bool.
        #expect(try f.info("terminals").type == .bool)
        // Conversions are explicit.
        #expect(try f.readConverting("terminals", as: Float.self).values == bools.map { $0 ? 1 : 0 })
        #expect(try f.readConverting("i32", as: Double.self).values == i32.map(Double.init))
        #expect(try f.readBool("u8").values == [false, true, true, true])
    }

    @Test("clear errors: missing file, missing key, wrong dtype, non-HDF5 and truncated files")
    func errors() throws {
        let dir = makeTempDir()
        defer { removeTree(dir) }
        let missing = dir + "/nope.h5"
        let e1 = #expect(throws: HDF5Error.self) { try HDF5File.open(missing) }
        #expect(e1?.kind == .fileNotFound)
        #expect(e1?.description.contains("nope.h5") == true)

        let path = dir + "/ok.h5"
        do {
            let f = try HDF5File.create(path)
            try f.write("rewards", [Float](repeating: 1, count: 4096), shape: [4096], options: .init(gzipLevel: 0))
        }
        var f: HDF5File! = try HDF5File.open(path)
        let e2 = #expect(throws: HDF5Error.self) { try f.read("actions", as: Float.self) }
        #expect(e2?.kind == .missingObject)
        #expect(e2?.description == "\(path):/actions: no such dataset")
        let e3 = #expect(throws: HDF5Error.self) { try f.read("rewards", as: Double.self) }
        #expect(e3?.kind == .wrongType)
        #expect(e3?.description.contains("stored as float32, expected float64") == true)
        #expect(throws: HDF5Error.self) { try f.readBool("rewards") }
        #expect(throws: HDF5Error.self) { try f.openGroup("metadata") }
        #expect(throws: HDF5Error.self) { try f.attribute("nothing") }

        let text = dir + "/notes.h5"
        try "just some text, not HDF5\n".write(toFile: text, atomically: false, encoding: .utf8)
        let e4 = #expect(throws: HDF5Error.self) { try HDF5File.open(text) }
        #expect(e4?.kind == .notHDF5)
        #expect(e4?.description.contains("not an HDF5 file") == true)

        // A truncated copy: the signature survives but the data does not.
        let truncated = dir + "/truncated.h5"
        try Data(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(3000)).write(to: URL(fileURLWithPath: truncated))
        let outcome: Result<[Float], Error> = Result { try HDF5File.open(truncated).read("rewards", as: Float.self).values }
        if case .success = outcome { Issue.record("reading a truncated file must fail") }
        if case .failure(let e) = outcome { #expect("\(e)".contains("truncated.h5")) }

        f = nil  // close before replacing the file
        // Creating over an existing file needs overwrite.
        let e5 = #expect(throws: HDF5Error.self) { try HDF5File.create(path) }
        #expect(e5?.description.contains("already exists") == true)
        _ = try HDF5File.create(path, overwrite: true)
    }

    @Test("bad shapes are rejected before anything is written")
    func badShapes() throws {
        let dir = makeTempDir()
        defer { removeTree(dir) }
        let f = try HDF5File.create(dir + "/s.h5")
        let e = #expect(throws: HDF5Error.self) { try f.write("x", [Float](repeating: 0, count: 5), shape: [2, 3]) }
        #expect(e?.kind == .wrongShape)
        #expect(!f.contains("x"))
        try f.write("x", [Float](repeating: 0, count: 6), shape: [2, 3])
        #expect(throws: HDF5Error.self) { try f.write("x", [Float](repeating: 0, count: 6), shape: [2, 3]) }
    }

    @Test("the library reports a version and thread safety")
    func library() {
        #expect(HDF5Library.version.split(separator: ".").count == 3)
        _ = HDF5Library.isThreadSafe
    }
}
