import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Envs
import Testing
@testable import Rollout

/// Parses markup as XML; returns the element names seen, or the parser's error.
func parseXML(_ text: String) -> (elements: [String], error: String?) {
    final class Collector: NSObject, XMLParserDelegate {
        var names: [String] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) { names.append(name) }
    }
    // The doctype line is HTML5's; XML parsers accept it, but drop it to keep the check simple.
    let body = text.replacingOccurrences(of: "<!DOCTYPE html>\n", with: "")
    let p = XMLParser(data: Data(body.utf8))
    let c = Collector()
    p.delegate = c
    let ok = p.parse()
    return (c.names, ok ? nil : (p.parserError.map { "\($0)" } ?? "parse error"))
}

@Suite("HTML reports")
struct ReportTests {
    @Test("a report with charts and tables is well-formed XML and escapes text")
    func wellFormed() {
        var chart = SVGLineChart(title: "score <&> \"quotes\"", xLabel: "step", yLabel: "normalised score", series: [
            .init(name: "OFQL", points: [(0, 1), (1000, 20), (2000, 35)], band: [1, 2, 3]),
            .init(name: "BC", points: [(0, 1), (1000, 15), (2000, .nan)]),
        ])
        var report = HTMLReport(title: "run & report")
        report.add(.heading("Curves"))
        report.add(.svg(chart.svg()))
        chart.logY = true
        report.add(.svg(chart.svg()))
        report.add(.table([["dataset", "OFQL"], ["hopper-medium-v1", "55.0 ± 2.0"]]))
        report.add(.preformatted("a < b"))
        let html = report.html()
        let parsed = parseXML(html)
        #expect(parsed.error == nil, "\(parsed.error ?? "")")
        #expect(parsed.elements.filter { $0 == "svg" }.count == 2)
        #expect(parsed.elements.contains("polyline") && parsed.elements.contains("polygon") && parsed.elements.contains("table"))
        #expect(html.contains("score &lt;&amp;&gt; &quot;quotes&quot;"))
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").count - 1 == html.components(separatedBy: "http://www.w3.org").count - 1,
                "no network references besides XML namespaces")
    }

    @Test("a long title widens the chart; step ticks read in thousands")
    func titleAndTicks() {
        let title = String(repeating: "kitchen-partial-v2: OFQL ", count: 4)
        let chart = SVGLineChart(title: title, xLabel: "step", yLabel: "score", series: [.init(name: "a", points: [(0, 1), (50_000, 2)])])
        #expect(chart.width >= 7.5 * Double(title.count), "width \(chart.width) for \(title.count) characters")
        #expect(SVGLineChart(title: "t", xLabel: "x", yLabel: "y", series: []).width == 560)
        #expect(chart.tick(12_500) == "12.5k" && chart.tick(50_000) == "50k" && chart.tick(-37_500) == "-37.5k")
        #expect(chart.tick(2e7) == "2.0e+07" && chart.tick(0.001) == "1.0e-03" && chart.tick(250) == "250" && chart.tick(0.5) == "0.50")
    }

    @Test("an empty or degenerate series still renders")
    func degenerate() {
        let chart = SVGLineChart(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "flat", points: [(5, 3)])])
        #expect(parseXML(chart.svg()).error == nil)
        let empty = SVGLineChart(title: "t", xLabel: "x", yLabel: "y", series: [])
        #expect(parseXML(empty.svg()).error == nil)
    }
}

@Suite("Evaluation report formats")
struct EvaluationFormatTests {
    @Test("JSON has the documented keys; CSV and Markdown carry one row per episode")
    func formats() throws {
        let spec = try EnvRegistry.spec(.hopper)
        let policy = RandomPolicy(observationDimension: spec.observationDimension, actionDimension: spec.actionDimension)
        let out = try RolloutEngine.run(spec: spec, policy: policy, options: RolloutOptions(episodes: 5, workers: 2, seed: 40))
        let r = EvaluationReport(spec: spec, policy: "random", seed: 40, workers: 2, output: out, seconds: 1)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(try r.json().utf8)) as? [String: Any])
        for k in ["env", "policy", "seed", "episodes", "return", "normalized_score"] { #expect(obj[k] != nil, "missing \(k)") }
        let eps = try #require(obj["episodes"] as? [[String: Any]])
        #expect(eps.count == 5)
        for k in ["index", "seed", "return", "length", "terminated", "truncated"] { #expect(eps[0][k] != nil, "episode lacks \(k)") }
        #expect(r.csv.split(separator: "\n").count == 6)
        let mdRows = r.markdown.split(separator: "\n").filter { $0.hasPrefix("| ") }
        #expect(mdRows.count == 3 + 5, "summary header and row, episode header, 5 episode rows")
        #expect(r.markdown.contains("| 4 | 44 |"), "episode 4 uses seed 44")
    }
}
