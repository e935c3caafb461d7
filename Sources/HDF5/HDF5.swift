import CHDF5
#if canImport(Glibc)
import Glibc
#endif

/// A failed HDF5 operation: what was attempted, on which file and object, and HDF5's own message.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case fileNotFound, notHDF5, missingObject, wrongType, wrongShape, library
    }
    public var kind: Kind
    /// The file the operation was on.
    public var file: String
    /// The object inside the file ("/observations"), empty for the file itself.
    public var object: String
    public var message: String

    public var description: String {
        let at = object.isEmpty ? file : "\(file):\(object)"
        return "\(at): \(message)"
    }
}

/// The library's version and build facts.
public enum HDF5Library {
    public static var version: String {
        var maj: UInt32 = 0, min: UInt32 = 0, rel: UInt32 = 0
        H5get_libversion(&maj, &min, &rel)
        return "\(maj).\(min).\(rel)"
    }
    public static var isThreadSafe: Bool {
        var ts: hbool_t = false
        H5is_library_threadsafe(&ts)
        return ts
    }
    /// Turns off HDF5's automatic stderr error printing on the calling thread (the setting is
    /// per thread in thread-safe builds); errors come back as ``HDF5Error``.
    @inline(__always) static func quiet() { chdf5_silence_errors() }
}

/// Element types this module reads and writes.
public enum HDF5ElementType: String, Sendable, Equatable, CustomStringConvertible {
    case float32, float64, int8, int32, int64, uint8, bool, string, other
    public var description: String { rawValue }
}

/// A Swift scalar with a native HDF5 memory type.
public protocol HDF5Scalar: Sendable {
    static var hdf5Type: hid_t { get }
    static var elementType: HDF5ElementType { get }
    static var zero: Self { get }
}
extension Float: HDF5Scalar {
    public static var hdf5Type: hid_t { chdf5_native_float() }
    public static var elementType: HDF5ElementType { .float32 }
    public static var zero: Float { 0 }
}
extension Double: HDF5Scalar {
    public static var hdf5Type: hid_t { chdf5_native_double() }
    public static var elementType: HDF5ElementType { .float64 }
    public static var zero: Double { 0 }
}
extension Int8: HDF5Scalar {
    public static var hdf5Type: hid_t { chdf5_native_int8() }
    public static var elementType: HDF5ElementType { .int8 }
    public static var zero: Int8 { 0 }
}
extension Int32: HDF5Scalar {
    public static var hdf5Type: hid_t { chdf5_native_int32() }
    public static var elementType: HDF5ElementType { .int32 }
    public static var zero: Int32 { 0 }
}
extension Int64: HDF5Scalar {
    public static var hdf5Type: hid_t { chdf5_native_int64() }
    public static var elementType: HDF5ElementType { .int64 }
    public static var zero: Int64 { 0 }
}
extension UInt8: HDF5Scalar {
    public static var hdf5Type: hid_t { chdf5_native_uint8() }
    public static var elementType: HDF5ElementType { .uint8 }
    public static var zero: UInt8 { 0 }
}

/// An attribute value.
public enum HDF5Attribute: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case double(Double)
    case doubles([Double])
}

/// Shape and stored type of a dataset.
public struct HDF5DatasetInfo: Sendable, Equatable {
    public var shape: [Int]
    public var type: HDF5ElementType
    /// Chunk shape, nil for contiguous storage.
    public var chunks: [Int]?
    /// True when the deflate (gzip) filter is in the pipeline.
    public var compressed: Bool
    public var count: Int { shape.reduce(1, *) }
}

/// Storage options for a new dataset.
public struct HDF5WriteOptions: Sendable {
    /// Rows per chunk along the first axis (other axes whole); nil picks about 64 KiB chunks.
    public var chunkRows: Int?
    /// gzip level 0…9; 0 stores uncompressed (still chunked).
    public var gzipLevel: Int
    /// Byte shuffle before compression (helps floats).
    public var shuffle: Bool
    public init(chunkRows: Int? = nil, gzipLevel: Int = 4, shuffle: Bool = true) {
        self.chunkRows = chunkRows; self.gzipLevel = gzipLevel; self.shuffle = shuffle
    }
}

/// An open HDF5 object id that closes itself.
final class HID {
    let id: hid_t
    let close: (hid_t) -> herr_t
    init(_ id: hid_t, close: @escaping (hid_t) -> herr_t) { self.id = id; self.close = close }
    deinit { _ = close(id) }
}

/// Group-like behaviour shared by files and groups.
public class HDF5Node {
    let hid: HID
    /// Path of the file on disk.
    public let file: String
    /// Path of this node inside the file ("/" for the root).
    public let path: String

    init(hid: HID, file: String, path: String) {
        self.hid = hid; self.file = file; self.path = path
    }

    func child(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    func fail(_ kind: HDF5Error.Kind, _ object: String, _ what: String) -> HDF5Error {
        var buf = [CChar](repeating: 0, count: 512)
        chdf5_last_error(&buf)
        chdf5_clear_errors()
        let detail = cString(buf)
        return HDF5Error(kind: kind, file: file, object: object,
                         message: detail.isEmpty ? what : "\(what) (HDF5: \(detail))")
    }

    /// True when a link of this name exists directly in this group (a path with '/' is walked).
    public func contains(_ name: String) -> Bool {
        HDF5Library.quiet()
        var prefix = ""
        for part in name.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + part
            if H5Lexists(hid.id, prefix, chdf5_p_default()) <= 0 { chdf5_clear_errors(); return false }
        }
        return !prefix.isEmpty
    }

    /// Names of the direct members of this group, sorted.
    public func memberNames() throws -> [String] {
        var info = H5G_info_t()
        guard H5Gget_info(hid.id, &info) >= 0 else { throw fail(.library, path, "cannot list group") }
        var names: [String] = []
        for i in 0..<info.nlinks {
            let n = H5Lget_name_by_idx(hid.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, chdf5_p_default())
            guard n >= 0 else { throw fail(.library, path, "cannot read member \(i)") }
            var buf = [CChar](repeating: 0, count: Int(n) + 1)
            _ = H5Lget_name_by_idx(hid.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, Int(n) + 1, chdf5_p_default())
            names.append(cString(buf))
        }
        return names
    }

    /// True when `name` is a group.
    public func isGroup(_ name: String) -> Bool {
        guard contains(name) else { return false }
        var info = H5O_info_t()
        guard H5Oget_info_by_name1(hid.id, name, &info, chdf5_p_default()) >= 0 else { chdf5_clear_errors(); return false }
        return info.type == H5O_TYPE_GROUP
    }

    /// Creates a group (intermediate groups too) or opens it if it exists.
    @discardableResult
    public func group(_ name: String) throws -> HDF5Group {
        if contains(name) { return try openGroup(name) }
        let lcpl = H5Pcreate(chdf5_p_link_create())
        defer { H5Pclose(lcpl) }
        H5Pset_create_intermediate_group(lcpl, 1)
        let g = H5Gcreate2(hid.id, name, lcpl, chdf5_p_default(), chdf5_p_default())
        guard g >= 0 else { throw fail(.library, child(name), "cannot create group") }
        return HDF5Group(hid: HID(g, close: H5Gclose), file: file, path: child(name))
    }

    /// Opens an existing group.
    public func openGroup(_ name: String) throws -> HDF5Group {
        guard contains(name) else { throw HDF5Error(kind: .missingObject, file: file, object: child(name), message: "no such group") }
        let g = H5Gopen2(hid.id, name, chdf5_p_default())
        guard g >= 0 else { throw fail(.library, child(name), "cannot open group") }
        return HDF5Group(hid: HID(g, close: H5Gclose), file: file, path: child(name))
    }

    // MARK: Datasets

    /// Writes a chunked, compressed dataset of the given shape (row-major data).
    public func write<T: HDF5Scalar>(_ name: String, _ data: [T], shape: [Int], options: HDF5WriteOptions = .init()) throws {
        try data.withUnsafeBufferPointer { buf in
            try writeRaw(name, UnsafeRawPointer(buf.baseAddress), count: buf.count, shape: shape,
                         fileType: T.hdf5Type, memType: T.hdf5Type, elementSize: MemoryLayout<T>.stride, options: options)
        }
    }

    /// Writes booleans as h5py does (enum int8 {FALSE = 0, TRUE = 1}), so numpy reads dtype bool.
    public func writeBool(_ name: String, _ data: [Bool], shape: [Int], options: HDF5WriteOptions = .init()) throws {
        let bytes = data.map { $0 ? Int8(1) : Int8(0) }
        let t = try HDF5Node.boolType()
        defer { H5Tclose(t) }
        try bytes.withUnsafeBufferPointer { buf in
            try writeRaw(name, UnsafeRawPointer(buf.baseAddress), count: buf.count, shape: shape,
                         fileType: t, memType: t, elementSize: 1, options: options)
        }
    }

    /// A variable-length UTF-8 string dataset (scalar).
    public func writeString(_ name: String, _ value: String) throws {
        HDF5Library.quiet()
        let t = H5Tcopy(chdf5_c_s1())
        defer { H5Tclose(t) }
        H5Tset_size(t, chdf5_t_variable())
        H5Tset_cset(t, H5T_CSET_UTF8)
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let lcpl = H5Pcreate(chdf5_p_link_create())
        defer { H5Pclose(lcpl) }
        H5Pset_create_intermediate_group(lcpl, 1)
        let ds = H5Dcreate2(hid.id, name, t, space, lcpl, chdf5_p_default(), chdf5_p_default())
        guard ds >= 0 else { throw fail(.library, child(name), "cannot create string dataset") }
        defer { H5Dclose(ds) }
        let status = value.withCString { p -> herr_t in
            var ptr: UnsafePointer<CChar>? = p
            return H5Dwrite(ds, t, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &ptr)
        }
        guard status >= 0 else { throw fail(.library, child(name), "cannot write string dataset") }
    }

    static func boolType() throws -> hid_t {
        let t = H5Tenum_create(chdf5_native_int8())
        guard t >= 0 else { throw HDF5Error(kind: .library, file: "", object: "", message: "cannot create bool type") }
        var f: Int8 = 0, tr: Int8 = 1
        H5Tenum_insert(t, "FALSE", &f)
        H5Tenum_insert(t, "TRUE", &tr)
        return t
    }

    private func writeRaw(_ name: String, _ ptr: UnsafeRawPointer?, count: Int, shape: [Int], fileType: hid_t, memType: hid_t,
                          elementSize: Int, options: HDF5WriteOptions) throws {
        HDF5Library.quiet()
        let obj = child(name)
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw HDF5Error(kind: .wrongShape, file: file, object: obj, message: "invalid shape \(shape)")
        }
        guard shape.reduce(1, *) == count else {
            throw HDF5Error(kind: .wrongShape, file: file, object: obj,
                            message: "shape \(shape) holds \(shape.reduce(1, *)) elements but \(count) were given")
        }
        guard (0...9).contains(options.gzipLevel) else {
            throw HDF5Error(kind: .library, file: file, object: obj, message: "gzip level must be 0…9, got \(options.gzipLevel)")
        }
        if contains(name) {
            throw HDF5Error(kind: .library, file: file, object: obj, message: "already exists")
        }
        let dims = shape.map { hsize_t($0) }
        // An empty shape is a scalar dataset (h5py reads it with `ds[()]`).
        let space = dims.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil)
        guard space >= 0 else { throw fail(.library, obj, "cannot create dataspace \(shape)") }
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(chdf5_p_dataset_create())
        defer { H5Pclose(dcpl) }
        if count > 0 && !shape.isEmpty {
            let rowElems = shape.dropFirst().reduce(1, *)
            let rows = options.chunkRows ?? max(1, 65_536 / max(1, rowElems * elementSize))
            var chunk = dims
            chunk[0] = hsize_t(max(1, min(rows, shape[0])))
            H5Pset_chunk(dcpl, Int32(chunk.count), chunk)
            if options.shuffle && options.gzipLevel > 0 { H5Pset_shuffle(dcpl) }
            if options.gzipLevel > 0 { H5Pset_deflate(dcpl, UInt32(options.gzipLevel)) }
        }
        let lcpl = H5Pcreate(chdf5_p_link_create())
        defer { H5Pclose(lcpl) }
        H5Pset_create_intermediate_group(lcpl, 1)
        let ds = H5Dcreate2(hid.id, name, fileType, space, lcpl, dcpl, chdf5_p_default())
        guard ds >= 0 else { throw fail(.library, obj, "cannot create dataset") }
        defer { H5Dclose(ds) }
        if count > 0 {
            guard H5Dwrite(ds, memType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), ptr) >= 0 else {
                throw fail(.library, obj, "cannot write dataset")
            }
        }
    }

    /// Shape, stored type and storage of a dataset.
    public func info(_ name: String) throws -> HDF5DatasetInfo {
        let ds = try openDataset(name)
        return try info(ds: ds.id, object: child(name))
    }

    private func openDataset(_ name: String) throws -> HID {
        HDF5Library.quiet()
        guard contains(name) else { throw HDF5Error(kind: .missingObject, file: file, object: child(name), message: "no such dataset") }
        let ds = H5Dopen2(hid.id, name, chdf5_p_default())
        guard ds >= 0 else { throw fail(.missingObject, child(name), "cannot open dataset") }
        return HID(ds, close: H5Dclose)
    }

    private func info(ds: hid_t, object: String) throws -> HDF5DatasetInfo {
        let space = H5Dget_space(ds)
        guard space >= 0 else { throw fail(.library, object, "cannot read dataspace") }
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        if rank > 0 { H5Sget_simple_extent_dims(space, &dims, nil) }
        let type = H5Dget_type(ds)
        defer { H5Tclose(type) }
        let dcpl = H5Dget_create_plist(ds)
        defer { H5Pclose(dcpl) }
        var chunks: [Int]? = nil
        if H5Pget_layout(dcpl) == H5D_CHUNKED {
            var c = [hsize_t](repeating: 0, count: max(rank, 1))
            H5Pget_chunk(dcpl, Int32(rank), &c)
            chunks = c.prefix(rank).map { Int($0) }
        }
        var compressed = false
        let nf = H5Pget_nfilters(dcpl)
        if nf > 0 {
            for i in 0..<UInt32(nf) {
                var flags: UInt32 = 0, nelem = 0, cfg: UInt32 = 0
                var cd = [UInt32](repeating: 0, count: 8)
                var nameBuf = [CChar](repeating: 0, count: 64)
                nelem = 8
                let f = H5Pget_filter2(dcpl, i, &flags, &nelem, &cd, 64, &nameBuf, &cfg)
                if f == H5Z_FILTER_DEFLATE { compressed = true }
            }
        }
        return HDF5DatasetInfo(shape: rank == 0 ? [] : dims.prefix(rank).map { Int($0) },
                               type: HDF5Node.classify(type), chunks: chunks, compressed: compressed)
    }

    static func classify(_ t: hid_t) -> HDF5ElementType {
        let size = H5Tget_size(t)
        switch H5Tget_class(t) {
        case H5T_FLOAT: return size == 4 ? .float32 : (size == 8 ? .float64 : .other)
        case H5T_INTEGER:
            let signed = H5Tget_sign(t) == H5T_SGN_2
            switch (size, signed) {
            case (1, true): return .int8
            case (1, false): return .uint8
            case (4, true): return .int32
            case (8, true): return .int64
            default: return .other
            }
        case H5T_ENUM:
            // h5py's bool: enum over int8 with exactly FALSE = 0 and TRUE = 1.
            if size == 1 && H5Tget_nmembers(t) == 2 { return .bool }
            return .other
        case H5T_STRING: return .string
        default: return .other
        }
    }

    /// Reads a whole dataset whose stored type is exactly `T` (a float32 dataset read as
    /// Double is a wrong-type error: use ``readConverting(_:as:)`` to convert).
    public func read<T: HDF5Scalar>(_ name: String, as: T.Type = T.self) throws -> (values: [T], shape: [Int]) {
        let ds = try openDataset(name)
        let inf = try info(ds: ds.id, object: child(name))
        guard inf.type == T.elementType else {
            throw HDF5Error(kind: .wrongType, file: file, object: child(name),
                            message: "stored as \(inf.type), expected \(T.elementType)")
        }
        return (try readAll(ds: ds.id, count: inf.count, object: child(name)), inf.shape)
    }

    /// Reads a numeric dataset converting any stored integer/float/bool type to `T`.
    public func readConverting<T: HDF5Scalar>(_ name: String, as: T.Type = T.self) throws -> (values: [T], shape: [Int]) {
        let ds = try openDataset(name)
        let inf = try info(ds: ds.id, object: child(name))
        switch inf.type {
        case .string, .other:
            throw HDF5Error(kind: .wrongType, file: file, object: child(name),
                            message: "stored as \(inf.type), expected a numeric type convertible to \(T.elementType)")
        case .bool:
            let raw: [Int8] = try readAll(ds: ds.id, count: inf.count, object: child(name), memType: try HDF5Node.boolType())
            if T.self == Float.self { return (raw.map { Float($0) } as! [T], inf.shape) }
            if T.self == Double.self { return (raw.map { Double($0) } as! [T], inf.shape) }
            if T.self == UInt8.self { return (raw.map { UInt8($0) } as! [T], inf.shape) }
            if T.self == Int8.self { return (raw as! [T], inf.shape) }
            if T.self == Int32.self { return (raw.map { Int32($0) } as! [T], inf.shape) }
            return (raw.map { Int64($0) } as! [T], inf.shape)
        default:
            return (try readAll(ds: ds.id, count: inf.count, object: child(name)), inf.shape)
        }
    }

    /// Reads a boolean dataset stored as h5py bool, uint8 or int8 (non-zero is true).
    public func readBool(_ name: String) throws -> (values: [Bool], shape: [Int]) {
        let ds = try openDataset(name)
        let inf = try info(ds: ds.id, object: child(name))
        switch inf.type {
        case .bool:
            let t = try HDF5Node.boolType()
            let raw: [Int8] = try readAll(ds: ds.id, count: inf.count, object: child(name), memType: t)
            return (raw.map { $0 != 0 }, inf.shape)
        case .uint8, .int8, .int32, .int64:
            let raw: [Int64] = try readAll(ds: ds.id, count: inf.count, object: child(name))
            return (raw.map { $0 != 0 }, inf.shape)
        default:
            throw HDF5Error(kind: .wrongType, file: file, object: child(name),
                            message: "stored as \(inf.type), expected bool (h5py enum) or an integer type")
        }
    }

    /// Reads a scalar string dataset.
    public func readString(_ name: String) throws -> String {
        let ds = try openDataset(name)
        let inf = try info(ds: ds.id, object: child(name))
        guard inf.type == .string else {
            throw HDF5Error(kind: .wrongType, file: file, object: child(name), message: "stored as \(inf.type), expected string")
        }
        return try readStringValue(objectID: ds.id, isAttribute: false, object: child(name))
    }

    private func readAll<T: HDF5Scalar>(ds: hid_t, count: Int, object: String, memType: hid_t? = nil) throws -> [T] {
        var out = [T](repeating: T.zero, count: count)
        if count == 0 { return out }
        let mt = memType ?? T.hdf5Type
        let status = out.withUnsafeMutableBytes { H5Dread(ds, mt, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress) }
        if let m = memType { H5Tclose(m) }
        guard status >= 0 else { throw fail(.library, object, "cannot read dataset (truncated or corrupt file?)") }
        return out
    }

    func readStringValue(objectID: hid_t, isAttribute: Bool, object: String) throws -> String {
        let ftype = isAttribute ? H5Aget_type(objectID) : H5Dget_type(objectID)
        defer { H5Tclose(ftype) }
        if H5Tis_variable_str(ftype) > 0 {
            let mt = H5Tcopy(chdf5_c_s1())
            defer { H5Tclose(mt) }
            H5Tset_size(mt, chdf5_t_variable())
            H5Tset_cset(mt, H5Tget_cset(ftype))
            var p: UnsafeMutablePointer<CChar>? = nil
            let st = isAttribute ? H5Aread(objectID, mt, &p)
                                 : H5Dread(objectID, mt, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &p)
            guard st >= 0 else { throw fail(.library, object, "cannot read string") }
            defer { if let p { H5free_memory(p) } }
            return p.map { String(cString: $0) } ?? ""
        }
        let size = H5Tget_size(ftype)
        var buf = [CChar](repeating: 0, count: size + 1)
        let mt = H5Tcopy(ftype)
        defer { H5Tclose(mt) }
        let st = isAttribute ? H5Aread(objectID, mt, &buf)
                             : H5Dread(objectID, mt, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &buf)
        guard st >= 0 else { throw fail(.library, object, "cannot read string") }
        return cString(buf)
    }

    // MARK: Attributes

    /// Sets (replacing) an attribute on this group.
    public func setAttribute(_ name: String, _ value: HDF5Attribute) throws {
        HDF5Library.quiet()
        let obj = "\(path)@\(name)"
        if H5Aexists(hid.id, name) > 0 { H5Adelete(hid.id, name) }
        chdf5_clear_errors()
        switch value {
        case .string(let s):
            let t = H5Tcopy(chdf5_c_s1())
            defer { H5Tclose(t) }
            H5Tset_size(t, chdf5_t_variable())
            H5Tset_cset(t, H5T_CSET_UTF8)
            let space = H5Screate(H5S_SCALAR)
            defer { H5Sclose(space) }
            let a = H5Acreate2(hid.id, name, t, space, chdf5_p_default(), chdf5_p_default())
            guard a >= 0 else { throw fail(.library, obj, "cannot create attribute") }
            defer { H5Aclose(a) }
            let st = s.withCString { p -> herr_t in
                var ptr: UnsafePointer<CChar>? = p
                return H5Awrite(a, t, &ptr)
            }
            guard st >= 0 else { throw fail(.library, obj, "cannot write attribute") }
        case .int(let v):
            try writeNumericAttribute(name, [v], scalar: true, type: Int64.hdf5Type, obj: obj)
        case .double(let v):
            try writeNumericAttribute(name, [v], scalar: true, type: Double.hdf5Type, obj: obj)
        case .doubles(let v):
            try writeNumericAttribute(name, v, scalar: false, type: Double.hdf5Type, obj: obj)
        }
    }

    private func writeNumericAttribute<T>(_ name: String, _ v: [T], scalar: Bool, type: hid_t, obj: String) throws {
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, [hsize_t(v.count)], nil)
        defer { H5Sclose(space) }
        let a = H5Acreate2(hid.id, name, type, space, chdf5_p_default(), chdf5_p_default())
        guard a >= 0 else { throw fail(.library, obj, "cannot create attribute") }
        defer { H5Aclose(a) }
        let st = v.withUnsafeBytes { H5Awrite(a, type, $0.baseAddress) }
        guard st >= 0 else { throw fail(.library, obj, "cannot write attribute") }
    }

    /// Reads an attribute of this group.
    public func attribute(_ name: String) throws -> HDF5Attribute {
        HDF5Library.quiet()
        let obj = "\(path)@\(name)"
        guard H5Aexists(hid.id, name) > 0 else {
            chdf5_clear_errors()
            throw HDF5Error(kind: .missingObject, file: file, object: obj, message: "no such attribute")
        }
        let a = H5Aopen(hid.id, name, chdf5_p_default())
        guard a >= 0 else { throw fail(.library, obj, "cannot open attribute") }
        defer { H5Aclose(a) }
        let t = H5Aget_type(a)
        defer { H5Tclose(t) }
        let space = H5Aget_space(a)
        defer { H5Sclose(space) }
        let n = Int(H5Sget_simple_extent_npoints(space))
        switch HDF5Node.classify(t) {
        case .string:
            return .string(try readStringValue(objectID: a, isAttribute: true, object: obj))
        case .float32, .float64:
            var v = [Double](repeating: 0, count: max(n, 1))
            guard v.withUnsafeMutableBytes({ H5Aread(a, Double.hdf5Type, $0.baseAddress) }) >= 0 else {
                throw fail(.library, obj, "cannot read attribute")
            }
            return H5Sget_simple_extent_type(space) == H5S_SCALAR ? .double(v[0]) : .doubles(v)
        case .int8, .uint8, .int32, .int64, .bool:
            var v = [Int64](repeating: 0, count: max(n, 1))
            guard v.withUnsafeMutableBytes({ H5Aread(a, Int64.hdf5Type, $0.baseAddress) }) >= 0 else {
                throw fail(.library, obj, "cannot read attribute")
            }
            if H5Sget_simple_extent_type(space) == H5S_SCALAR { return .int(v[0]) }
            return .doubles(v.map { Double($0) })
        case .other:
            throw HDF5Error(kind: .wrongType, file: file, object: obj, message: "attribute of an unsupported type")
        }
    }

    /// Names of this group's attributes.
    public func attributeNames() throws -> [String] {
        var info = H5O_info_t()
        guard H5Oget_info1(hid.id, &info) >= 0 else { throw fail(.library, path, "cannot read object info") }
        var names: [String] = []
        for i in 0..<info.num_attrs {
            let n = H5Aget_name_by_idx(hid.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, chdf5_p_default())
            guard n >= 0 else { throw fail(.library, path, "cannot read attribute name") }
            var buf = [CChar](repeating: 0, count: n + 1)
            _ = H5Aget_name_by_idx(hid.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, n + 1, chdf5_p_default())
            names.append(cString(buf))
        }
        return names
    }
}

/// A group inside an HDF5 file.
public final class HDF5Group: HDF5Node {}

/// An open HDF5 file (its root group). Closed when the last reference goes.
public final class HDF5File: HDF5Node {
    public enum Mode: Sendable { case readOnly, readWrite }

    /// File access without HDF5's advisory `flock()`: every writer here replaces files
    /// atomically (temporary file, then rename), and a lock held through a descriptor that a
    /// spawned child process inherited would make other opens of the same file fail with
    /// "unable to lock the file".
    static func accessList() -> hid_t {
        let fapl = H5Pcreate(chdf5_p_file_access())
        _ = H5Pset_file_locking(fapl, false, true)
        return fapl
    }

    /// Creates a new file, replacing an existing one only when `overwrite` is true.
    public static func create(_ path: String, overwrite: Bool = false) throws -> HDF5File {
        HDF5Library.quiet()
        let fapl = accessList()
        defer { H5Pclose(fapl) }
        let f = H5Fcreate(path, overwrite ? chdf5_acc_trunc() : chdf5_acc_excl(), chdf5_p_default(), fapl)
        guard f >= 0 else {
            var buf = [CChar](repeating: 0, count: 512)
            chdf5_last_error(&buf)
            chdf5_clear_errors()
            let exists = access(path, F_OK) == 0
            throw HDF5Error(kind: .library, file: path, object: "",
                            message: exists && !overwrite ? "already exists" : "cannot create file (HDF5: \(cString(buf)))")
        }
        return HDF5File(hid: HID(f, close: H5Fclose), file: path, path: "/")
    }

    /// Opens an existing file; distinguishes a missing file from one that is not HDF5.
    public static func open(_ path: String, mode: Mode = .readOnly) throws -> HDF5File {
        HDF5Library.quiet()
        guard access(path, F_OK) == 0 else {
            throw HDF5Error(kind: .fileNotFound, file: path, object: "", message: "no such file")
        }
        guard access(path, R_OK) == 0 else {
            throw HDF5Error(kind: .fileNotFound, file: path, object: "", message: "not readable (permission denied)")
        }
        let isH5 = H5Fis_hdf5(path)
        if isH5 <= 0 {
            chdf5_clear_errors()
            throw HDF5Error(kind: .notHDF5, file: path, object: "",
                            message: "not an HDF5 file (no HDF5 signature; truncated, corrupt or another format)")
        }
        let fapl = accessList()
        defer { H5Pclose(fapl) }
        let f = H5Fopen(path, mode == .readOnly ? chdf5_acc_rdonly() : chdf5_acc_rdwr(), fapl)
        guard f >= 0 else {
            var buf = [CChar](repeating: 0, count: 512)
            chdf5_last_error(&buf)
            chdf5_clear_errors()
            throw HDF5Error(kind: .notHDF5, file: path, object: "",
                            message: "cannot open (truncated or corrupt?) (HDF5: \(cString(buf)))")
        }
        return HDF5File(hid: HID(f, close: H5Fclose), file: path, path: "/")
    }

    /// Flushes buffered data to disk.
    public func flush() throws {
        guard H5Fflush(hid.id, H5F_SCOPE_GLOBAL) >= 0 else { throw fail(.library, "", "cannot flush") }
    }
}

/// A String from a NUL-terminated C character array.
func cString(_ buf: [CChar]) -> String {
    let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

extension HDF5Attribute: CustomStringConvertible {
    public var description: String {
        switch self {
        case .string(let s): return s
        case .int(let v): return "\(v)"
        case .double(let v): return "\(v)"
        case .doubles(let v): return "[" + v.map { "\($0)" }.joined(separator: ", ") + "]"
        }
    }
}
