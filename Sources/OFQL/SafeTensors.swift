import Foundation

/// A minimal safetensors reader/writer for F32 tensors.
///
/// Layout (https://github.com/huggingface/safetensors): 8-byte little-endian header length n,
/// then n bytes of UTF-8 JSON `{"__metadata__": {str: str}, name: {"dtype": "F32", "shape":
/// [...], "data_offsets": [begin, end]}, ...}` (padded with spaces to a multiple of 8), then
/// the raw little-endian data; offsets are relative to the end of the header.
public enum SafeTensors {
    /// One tensor: name, shape and row-major values.
    public struct Tensor: Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            precondition(shape.reduce(1, *) == values.count, "tensor \(name): shape \(shape) does not hold \(values.count) values")
            self.name = name; self.shape = shape; self.values = values
        }
    }

    /// Serialises tensors (in the given order) and string metadata.
    public static func encode(_ tensors: [Tensor], metadata: [String: String]) throws -> Data {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for t in tensors {
            let bytes = t.values.count * 4
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        for t in tensors {
            t.values.withUnsafeBufferPointer { buf in
                if Int(1).littleEndian == 1 {
                    out.append(UnsafeBufferPointer(start: UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                                   count: buf.count * 4))
                } else {
                    for v in buf { var b = v.bitPattern.littleEndian; withUnsafeBytes(of: &b) { out.append(contentsOf: $0) } }
                }
            }
        }
        return out
    }

    /// Parses a safetensors file's bytes; every failure names `source` and what is wrong.
    public static func decode(_ data: Data, source: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard data.count >= 8 else { throw CheckpointError.truncated(file: source, detail: "\(data.count) bytes, shorter than the 8-byte header length") }
        let n = data.withUnsafeBytes { raw -> UInt64 in
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(raw[i]) << (8 * UInt64(i)) }
            return v
        }
        guard n <= UInt64(data.count - 8) else {
            throw CheckpointError.truncated(file: source, detail: "header length \(n) exceeds the \(data.count - 8) bytes after it")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(n)))
        guard let obj = try? JSONSerialization.jsonObject(with: headerData), let header = obj as? [String: Any] else {
            throw CheckpointError.badHeader(file: source, detail: "header is not a JSON object")
        }
        let base = 8 + Int(n)
        let dataLen = data.count - base
        var metadata: [String: String] = [:]
        var tensors: [String: Tensor] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else {
                    throw CheckpointError.badHeader(file: source, detail: "__metadata__ must map strings to strings")
                }
                metadata = m
                continue
            }
            guard let d = value as? [String: Any], let dtype = d["dtype"] as? String,
                  let shape = (d["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offs = (d["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }), offs.count == 2
            else { throw CheckpointError.badHeader(file: source, detail: "tensor \(name) lacks dtype, shape or data_offsets") }
            guard dtype == "F32" else { throw CheckpointError.badHeader(file: source, detail: "tensor \(name) has dtype \(dtype), expected F32") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw CheckpointError.badHeader(file: source, detail: "tensor \(name) has shape \(shape)") }
            let count = shape.reduce(1, *)
            guard offs[0] >= 0, offs[1] >= offs[0], offs[1] - offs[0] == count * 4 else {
                throw CheckpointError.badHeader(file: source, detail: "tensor \(name): data_offsets \(offs) do not match shape \(shape) of F32")
            }
            guard offs[1] <= dataLen else {
                throw CheckpointError.truncated(file: source, detail: "tensor \(name) ends at byte \(offs[1]) but the data has \(dataLen) bytes")
            }
            var values = [Float](repeating: 0, count: count)
            data.withUnsafeBytes { raw in
                values.withUnsafeMutableBytes { dst in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(base + offs[0])..<(base + offs[1])]))
                }
            }
            if Int(1).littleEndian != 1 { values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) } }
            tensors[name] = Tensor(name: name, shape: shape, values: values)
        }
        return (tensors, metadata)
    }
}

/// A checkpoint that cannot be read, with the file and the problem.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case truncated(file: String, detail: String)
    case badHeader(file: String, detail: String)
    case missingTensor(file: String, name: String)
    case wrongShape(file: String, name: String, expected: [Int], got: [Int])
    case version(file: String, found: Int, supported: Int)
    case mismatch(String)
    case nonFinite(file: String, name: String, index: Int, value: Float)
    public var description: String {
        switch self {
        case .missingFile(let p): return "checkpoint: missing file \(p)"
        case .truncated(let f, let d): return "checkpoint: \(f) is truncated: \(d)"
        case .badHeader(let f, let d): return "checkpoint: \(f) has a bad header: \(d)"
        case .missingTensor(let f, let n): return "checkpoint: \(f) lacks tensor \(n)"
        case .wrongShape(let f, let n, let e, let g): return "checkpoint: \(f): tensor \(n) has shape \(g), expected \(e)"
        case .version(let f, let found, let s): return "checkpoint: \(f) has format version \(found); this build reads version \(s)"
        case .mismatch(let s): return "checkpoint: \(s)"
        case .nonFinite(let f, let n, let i, let v):
            return "checkpoint: \(f): tensor \(n) holds \(v) at element \(i); a checkpoint's tensors must be finite (was it saved from a diverged run?)"
        }
    }
}
