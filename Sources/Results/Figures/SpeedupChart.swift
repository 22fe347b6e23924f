import Foundation

/// Horizontal bars of convergence speedup per group (a task and fraction) and backbone, on a
/// log₂ axis around the reference's 1×, in the manner of the paper's Fig. 1d; a backbone that
/// did not converge gets no bar but the words `not converged`.
public struct SpeedupChart: Sendable, Hashable {
    /// One bar.
    public struct Bar: Sendable, Hashable {
        /// Its group (row block) and series (colour).
        public var group: String, series: String
        /// The mean speedup, nil when no seed converged.
        public var speedup: Double?
        /// The text beside it (`4.9×`, `4.9× (2/3)`, `not converged`).
        public var label: String
    }

    /// Title, the reference backbone's name, the bars in drawing order, small print.
    public var title: String
    public var reference: String
    public var bars: [Bar]
    public var footnotes: [String]

    private enum Layout {
        static let left = 210.0, plotWidth = 380.0, right = 110.0, top = 58.0, barHeight = 16.0, groupGap = 14.0, bottom = 46.0
    }

    /// The chart as a standalone SVG document.
    public func svg() -> String {
        var groups: [String] = [], series: [String] = []
        for bar in bars {
            if !groups.contains(bar.group) { groups.append(bar.group) }
            if !series.contains(bar.series) { series.append(bar.series) }
        }
        let width = Layout.left + Layout.plotWidth + Layout.right
        let heading = SVGTitle(title, width: width - 20)
        let plotHeight = Double(bars.count) * Layout.barHeight + Double(groups.count) * Layout.groupGap
        let notes = footnotes.flatMap { SVGTitle($0, width: width - 40, fontSize: 10).lines }
        let height = Layout.top + plotHeight + Layout.bottom + Double(series.count) * 18 + Double(notes.count) * 14 + 8 + heading.extraHeight
        // A log2 axis symmetric enough to show slower and faster backbones.
        let logs = bars.compactMap(\.speedup).filter { $0 > 0 }.map(log2)
        let bound = max(1, (logs.map(abs).max() ?? 1).rounded(.up))
        func x(_ speedup: Double) -> Double { Layout.left + (log2(speedup) + bound) / (2 * bound) * Layout.plotWidth }
        var out: [String] = []
        out.append(#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(n(width))" height="\#(n(height))" "#
            + #"viewBox="0 0 \#(n(width)) \#(n(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">"#)
        out.append("<title>\(BoxPlot.xml(title))</title>")
        out.append(#"<rect width="100%" height="100%" fill="white"/>"#)
        out.append(heading.svg(x: width / 2, y: "24", anchor: "middle", number: n, escape: BoxPlot.xml))
        if heading.extraHeight > 0 { out.append(#"<g transform="translate(0 \#(n(heading.extraHeight)))">"#) }
        let bottom = Layout.top + plotHeight
        // Every power of two up to 8×, every other one beyond, so the labels do not collide.
        let step = bound > 3 ? 2.0 : 1.0
        for exponent in stride(from: -bound, through: bound, by: 1) where exponent.truncatingRemainder(dividingBy: step) == 0 {
            let tick = pow(2, exponent)
            out.append(##"<line x1="\##(n(x(tick)))" y1="\##(n(Layout.top))" x2="\##(n(x(tick)))" y2="\##(n(bottom))" stroke="\##(exponent == 0 ? "#333333" : "#dddddd")"\##(exponent == 0 ? #" stroke-dasharray="4 3""# : "")/>"##)
            out.append(#"<text x="\#(n(x(tick)))" y="\#(n(bottom + 16))" text-anchor="middle">\#(tick >= 1 ? String(format: "%g×", tick) : "1/\(String(format: "%g", 1 / tick))×")</text>"#)
        }
        out.append(#"<text x="\#(n(Layout.left + Layout.plotWidth / 2))" y="\#(n(bottom + 34))" text-anchor="middle">convergence speedup against \#(BoxPlot.xml(reference)) (log scale)</text>"#)
        var y = Layout.top
        for group in groups {
            y += Layout.groupGap / 2
            let members = bars.filter { $0.group == group }
            let middle = y + Double(members.count) * Layout.barHeight / 2
            out.append(#"<text x="\#(n(Layout.left - 10))" y="\#(n(middle + 4))" text-anchor="end">\#(BoxPlot.xml(group))</text>"#)
            for bar in members {
                let colour = BoxPlot.palette[(series.firstIndex(of: bar.series) ?? 0) % BoxPlot.palette.count]
                if let speedup = bar.speedup, speedup > 0 {
                    let (start, end) = (min(x(1), x(speedup)), max(x(1), x(speedup)))
                    out.append(#"<rect x="\#(n(start))" y="\#(n(y + 2))" width="\#(n(max(end - start, 1)))" height="\#(n(Layout.barHeight - 4))" fill="\#(colour)" fill-opacity="0.8"/>"#)
                    out.append(#"<text x="\#(n(max(end, x(1)) + 4))" y="\#(n(y + Layout.barHeight - 4))" font-size="11">\#(BoxPlot.xml(bar.label))</text>"#)
                } else {
                    out.append(#"<text x="\#(n(x(1) + 4))" y="\#(n(y + Layout.barHeight - 4))" font-size="11" fill="\#(colour)" font-style="italic">\#(BoxPlot.xml(bar.label))</text>"#)
                }
                y += Layout.barHeight
            }
            y += Layout.groupGap / 2
        }
        var legendY = bottom + Layout.bottom + 4
        for (slot, name) in series.enumerated() {
            out.append(#"<rect x="\#(n(Layout.left))" y="\#(n(legendY - 10))" width="12" height="12" fill="\#(BoxPlot.palette[slot % BoxPlot.palette.count])" fill-opacity="0.8"/>"#)
            out.append(#"<text x="\#(n(Layout.left + 18))" y="\#(n(legendY))">\#(BoxPlot.xml(name))</text>"#)
            legendY += 18
        }
        for line in notes {
            out.append(#"<text x="20" y="\#(n(legendY))" font-size="10">\#(BoxPlot.xml(line))</text>"#)
            legendY += 14
        }
        if heading.extraHeight > 0 { out.append("</g>") }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    private func n(_ value: Double) -> String { BoxPlot.n(value) }
}
