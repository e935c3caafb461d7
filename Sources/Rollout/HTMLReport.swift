import Foundation

/// A line chart as inline SVG (no scripts, no network), for self-contained reports.
public struct SVGLineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Optional ± band around each point (same count as `points`).
        public var band: [Double]?
        public init(name: String, points: [(x: Double, y: Double)], band: [Double]? = nil) {
            self.name = name; self.points = points; self.band = band
        }
    }
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width = 560.0
    public var height = 300.0
    /// Log-scaled y axis (for losses).
    public var logY = false

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool = false) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series; self.logY = logY
        // Wide enough for the bold 13 px title (about 7.5 px a character), which is centred.
        width = max(width, 7.5 * Double(title.count) + 32)
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]

    public func svg() -> String {
        let left = 64.0, right = 16.0, top = 30.0, bottom = 44.0
        let pw = width - left - right, ph = height - top - bottom
        func ty(_ y: Double) -> Double { logY ? log10(max(y, 1e-12)) : y }
        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            for (i, p) in s.points.enumerated() where p.x.isFinite && p.y.isFinite && (!logY || p.y > 0) {
                xs.append(p.x)
                let b = s.band?[i] ?? 0
                ys.append(ty(p.y - b)); ys.append(ty(p.y + b)); ys.append(ty(p.y))
            }
        }
        ys = ys.filter(\.isFinite)
        var x0 = xs.min() ?? 0, x1 = xs.max() ?? 1
        var y0 = ys.min() ?? 0, y1 = ys.max() ?? 1
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad; y1 += pad
        if !logY && x0 > 0 && x0 < (x1 - x0) * 0.2 { x0 = 0 }
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { top + (1 - (ty(y) - y0) / (y1 - y0)) * ph }
        var o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        o += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"white\"/>"
        o += "<text x=\"\(f(width / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">\(xmlEscape(title))</text>"
        // Axes and ticks.
        o += "<g stroke=\"#888\" stroke-width=\"1\"><line x1=\"\(f(left))\" y1=\"\(f(top + ph))\" x2=\"\(f(left + pw))\" y2=\"\(f(top + ph))\"/>"
        o += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + ph))\"/></g>"
        for k in 0...4 {
            let xv = x0 + (x1 - x0) * Double(k) / 4
            o += "<text x=\"\(f(px(xv)))\" y=\"\(f(top + ph + 14))\" text-anchor=\"middle\" fill=\"#444\">\(tick(xv))</text>"
            let yt = y0 + (y1 - y0) * Double(k) / 4
            let yv = logY ? pow(10, yt) : yt
            let yy = top + (1 - Double(k) / 4) * ph
            o += "<line x1=\"\(f(left))\" y1=\"\(f(yy))\" x2=\"\(f(left + pw))\" y2=\"\(f(yy))\" stroke=\"#eee\"/>"
            o += "<text x=\"\(f(left - 4))\" y=\"\(f(yy + 4))\" text-anchor=\"end\" fill=\"#444\">\(tick(yv))</text>"
        }
        o += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(xmlEscape(xLabel))</text>"
        o += "<text x=\"14\" y=\"\(f(top + ph / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(top + ph / 2)))\">\(xmlEscape(yLabel))</text>"
        for (si, s) in series.enumerated() {
            let color = SVGLineChart.palette[si % SVGLineChart.palette.count]
            let pts = s.points.enumerated().filter { $0.element.x.isFinite && $0.element.y.isFinite && (!logY || $0.element.y > 0) }
            if let band = s.band, band.count == s.points.count, !pts.isEmpty {
                let upper = pts.map { "\(f(px($0.element.x))),\(f(py($0.element.y + band[$0.offset])))" }
                let lower = pts.reversed().map { "\(f(px($0.element.x))),\(f(py(max($0.element.y - band[$0.offset], logY ? 1e-12 : -.infinity))))" }
                o += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.15\" stroke=\"none\"/>"
            }
            let path = pts.map { "\(f(px($0.element.x))),\(f(py($0.element.y)))" }.joined(separator: " ")
            if pts.count > 1 {
                o += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"/>"
            }
            for p in pts where pts.count <= 40 {
                o += "<circle cx=\"\(f(px(p.element.x)))\" cy=\"\(f(py(p.element.y)))\" r=\"2.5\" fill=\"\(color)\"/>"
            }
            o += "<rect x=\"\(f(left + 8))\" y=\"\(f(top + 6 + Double(si) * 15))\" width=\"10\" height=\"3\" fill=\"\(color)\"/>"
            o += "<text x=\"\(f(left + 22))\" y=\"\(f(top + 10 + Double(si) * 15))\">\(xmlEscape(s.name))</text>"
        }
        o += "</svg>"
        return o
    }

    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    func tick(_ v: Double) -> String {
        let a = abs(v)
        if a == 0 { return "0" }
        if a >= 10_000 && a < 10_000_000 { return String(format: "%.4gk", v / 1000) }
        if a >= 10_000 || a < 0.01 { return String(format: "%.1e", v) }
        if a >= 100 { return String(format: "%.0f", v) }
        return String(format: "%.2f", v)
    }
}

/// Escapes text for XML/HTML content and attributes.
public func xmlEscape(_ s: String) -> String {
    var o = ""
    o.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": o += "&amp;"
        case "<": o += "&lt;"
        case ">": o += "&gt;"
        case "\"": o += "&quot;"
        case "'": o += "&apos;"
        default: o.append(c)
        }
    }
    return o
}

/// A self-contained HTML page (XHTML-compatible, inline CSS and SVG, no network).
public struct HTMLReport: Sendable {
    public enum Block: Sendable {
        case heading(String)
        case paragraph(String)
        /// Rows of cells; the first row is the header.
        case table([[String]])
        /// Raw inline SVG markup.
        case svg(String)
        case preformatted(String)
    }
    public var title: String
    public var blocks: [Block] = []
    public init(title: String) { self.title = title }

    public mutating func add(_ b: Block) { blocks.append(b) }

    public func html() -> String {
        var o = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/>"
        o += "<title>\(xmlEscape(title))</title><style>"
        o += "body{font-family:sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;color:#222}"
        o += "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        o += "th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}svg{margin:6px 8px 6px 0;border:1px solid #eee}"
        o += "pre{background:#f8f8f8;padding:8px;overflow-x:auto}"
        o += "</style></head><body>\n<h1>\(xmlEscape(title))</h1>\n"
        for b in blocks {
            switch b {
            case .heading(let s): o += "<h2>\(xmlEscape(s))</h2>\n"
            case .paragraph(let s): o += "<p>\(xmlEscape(s))</p>\n"
            case .preformatted(let s): o += "<pre>\(xmlEscape(s))</pre>\n"
            case .svg(let s): o += s + "\n"
            case .table(let rows):
                o += "<table>"
                for (i, r) in rows.enumerated() {
                    let tag = i == 0 ? "th" : "td"
                    o += "<tr>" + r.map { "<\(tag)>\(xmlEscape($0))</\(tag)>" }.joined() + "</tr>"
                }
                o += "</table>\n"
            }
        }
        o += "</body></html>\n"
        return o
    }
}
