/// A minimal JSON value with a parser and a writer (Envs avoids Foundation).
///
/// Numbers keep their source text so that floats written with Swift's shortest
/// round-trip formatting read back bit-exactly.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let kv) = self { return kv.first { $0.0 == key }?.1 }
        return nil
    }
    public var double: Double? { if case .number(let s) = self { return Double(s) }; return nil }
    public var float: Float? { if case .number(let s) = self { return Float(s) }; return nil }
    public var int: Int? { if case .number(let s) = self { return Int(s) ?? Double(s).map { Int($0) } }; return nil }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var floats: [Float]? { array?.compactMap(\.float) }

    public static func num(_ x: Float) -> JSONValue { .number(x.isFinite ? "\(x)" : "null") }
    public static func num(_ x: Double) -> JSONValue { .number(x.isFinite ? "\(x)" : "null") }
    public static func num(_ x: Int) -> JSONValue { .number("\(x)") }
    public static func num(_ x: UInt64) -> JSONValue { .number("\(x)") }
    public static func floats(_ xs: [Float]) -> JSONValue { .array(xs.map { num($0) }) }

    /// Serialises with newlines between top-level object members and array-of-object items.
    public func serialized(indent: Int = 0) -> String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let s): return s
        case .string(let s): return JSONValue.quote(s)
        case .array(let a):
            if a.contains(where: { if case .object = $0 { return true }; return false }) {
                let pad = String(repeating: " ", count: indent + 2)
                return "[\n" + a.map { pad + $0.serialized(indent: indent + 2) }.joined(separator: ",\n") + "\n" + String(repeating: " ", count: indent) + "]"
            }
            return "[" + a.map { $0.serialized(indent: indent) }.joined(separator: ", ") + "]"
        case .object(let kv):
            let pad = String(repeating: " ", count: indent + 2)
            return "{\n" + kv.map { pad + JSONValue.quote($0.0) + ": " + $0.1.serialized(indent: indent + 2) }.joined(separator: ",\n")
                + "\n" + String(repeating: " ", count: indent) + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 { out += "\\u" + String(c.value, radix: 16).leftPad(4) } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }

    /// Parses a JSON document; throws ``JSONError`` with the byte offset on bad input.
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        var p = Parser(bytes: Array(text.utf8))
        let v = try p.value()
        p.skip()
        guard p.i == p.bytes.count else { throw JSONError(offset: p.i, message: "trailing characters") }
        return v
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0
        mutating func skip() { while i < bytes.count, [9, 10, 13, 32].contains(bytes[i]) { i += 1 } }
        mutating func value() throws(JSONError) -> JSONValue {
            skip()
            guard i < bytes.count else { throw JSONError(offset: i, message: "unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1; var kv: [(String, JSONValue)] = []
                skip(); if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(kv) }
                while true {
                    skip()
                    guard case .string(let k) = try value() else { throw JSONError(offset: i, message: "object key must be a string") }
                    skip(); try expect(":")
                    kv.append((k, try value()))
                    skip()
                    if i < bytes.count, bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    try expect("}"); return .object(kv)
                }
            case UInt8(ascii: "["):
                i += 1; var a: [JSONValue] = []
                skip(); if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                while true {
                    a.append(try value()); skip()
                    if i < bytes.count, bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    try expect("]"); return .array(a)
                }
            case UInt8(ascii: "\""):
                i += 1; var s: [UInt8] = []
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count {
                        i += 1
                        switch bytes[i] {
                        case UInt8(ascii: "n"): s.append(10)
                        case UInt8(ascii: "t"): s.append(9)
                        case UInt8(ascii: "u"):
                            let hex = String(decoding: bytes[(i + 1)..<min(i + 5, bytes.count)], as: UTF8.self)
                            if let v = UInt32(hex, radix: 16), let u = Unicode.Scalar(v) { s += Array(String(Character(u)).utf8) }
                            i += 4
                        default: s.append(bytes[i])
                        }
                    } else { s.append(bytes[i]) }
                    i += 1
                }
                try expect("\"")
                return .string(String(decoding: s, as: UTF8.self))
            case UInt8(ascii: "t"): try word("true"); return .bool(true)
            case UInt8(ascii: "f"): try word("false"); return .bool(false)
            case UInt8(ascii: "n"): try word("null"); return .null
            default:
                let start = i
                while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
                guard i > start else { throw JSONError(offset: i, message: "unexpected character") }
                return .number(String(decoding: bytes[start..<i], as: UTF8.self))
            }
        }
        mutating func expect(_ c: Character) throws(JSONError) {
            guard i < bytes.count, bytes[i] == c.asciiValue! else { throw JSONError(offset: i, message: "expected '\(c)'") }
            i += 1
        }
        mutating func word(_ w: String) throws(JSONError) {
            let u = Array(w.utf8)
            guard i + u.count <= bytes.count, Array(bytes[i..<(i + u.count)]) == u else { throw JSONError(offset: i, message: "expected \(w)") }
            i += u.count
        }
    }
}

/// A JSON syntax error at a byte offset.
public struct JSONError: Error, CustomStringConvertible, Equatable {
    public var offset: Int
    public var message: String
    public var description: String { "JSON error at byte \(offset): \(message)" }
}

extension String {
    fileprivate func leftPad(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
