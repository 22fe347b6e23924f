import Foundation

/// Line plots side by side, as standalone SVG: the reliability diagram and training curves.
/// Deterministic text (coordinates with one decimal), colours from the box plot's palette.
public struct LineChart: Sendable, Hashable {
    /// One line.
    public struct Series: Sendable, Hashable {
        /// Legend name (series of one name share a colour and one legend entry).
        public var name: String
        /// Points in drawing order.
        public var points: [Point]
        /// Dashed rather than solid.
        public var dashed: Bool
        /// Whether each point gets a dot.
        public var dots: Bool
        /// Points drawn as a larger ring (a kept epoch).
        public var highlighted: [Point]

        /// Creates a series.
        public init(name: String, points: [Point], dashed: Bool = false, dots: Bool = false, highlighted: [Point] = []) {
            self.name = name
            self.points = points
            self.dashed = dashed
            self.dots = dots
            self.highlighted = highlighted
        }
    }

    /// A point.
    public struct Point: Sendable, Hashable {
        public var x: Double, y: Double
        /// Creates a point.
        public init(x: Double, y: Double) {
            self.x = x
            self.y = y
        }
    }

    /// One plot.
    public struct Panel: Sendable, Hashable {
        /// Its heading.
        public var title: String
        /// Axis labels.
        public var xLabel: String, yLabel: String
        /// Its lines.
        public var series: [Series]
        /// Fixed axis ranges (nil: the data's, with round ticks).
        public var xRange: ClosedRange<Double>?, yRange: ClosedRange<Double>?
        /// Whether to draw the diagonal y = x (perfect calibration).
        public var diagonal: Bool

        /// Creates a panel.
        public init(title: String, xLabel: String, yLabel: String, series: [Series], xRange: ClosedRange<Double>? = nil,
                    yRange: ClosedRange<Double>? = nil, diagonal: Bool = false) {
            self.title = title
            self.xLabel = xLabel
            self.yLabel = yLabel
            self.series = series
            self.xRange = xRange
            self.yRange = yRange
            self.diagonal = diagonal
        }
    }

    /// The figure's title (wrapped to its width).
    public var title: String
    /// The panels, left to right.
    public var panels: [Panel]
    /// Lines of small print under the legend.
    public var footnotes: [String]

    /// Creates a chart.
    public init(title: String, panels: [Panel], footnotes: [String] = []) {
        self.title = title
        self.panels = panels
        self.footnotes = footnotes
    }

    private enum Layout {
        static let panelWidth = 320.0, panelHeight = 240.0, left = 64.0, gap = 70.0, right = 24.0, top = 64.0, bottom = 56.0
        static let legendLine = 18.0
    }

    /// Series names in first-seen order: the legend and the colours.
    public var names: [String] {
        var names: [String] = []
        for panel in panels {
            for series in panel.series where !names.contains(series.name) { names.append(series.name) }
        }
        return names
    }

    /// The chart as a standalone SVG document.
    public func svg() -> String {
        let names = self.names
        let width = Layout.left + Double(max(panels.count, 1)) * Layout.panelWidth + Double(max(panels.count - 1, 0)) * Layout.gap + Layout.right
        let heading = SVGTitle(title, width: width - 20)
        let legendRows = Double(names.count + footnotes.count)
        let height = Layout.top + Layout.panelHeight + Layout.bottom + legendRows * Layout.legendLine + 10 + heading.extraHeight
        var out: [String] = []
        out.append(#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(n(width))" height="\#(n(height))" "#
            + #"viewBox="0 0 \#(n(width)) \#(n(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">"#)
        out.append("<title>\(BoxPlot.xml(title))</title>")
        out.append(#"<rect width="100%" height="100%" fill="white"/>"#)
        out.append(heading.svg(x: width / 2, y: "24", anchor: "middle", number: n, escape: BoxPlot.xml))
        if heading.extraHeight > 0 { out.append(#"<g transform="translate(0 \#(n(heading.extraHeight)))">"#) }
        for (index, panel) in panels.enumerated() {
            let originX = Layout.left + Double(index) * (Layout.panelWidth + Layout.gap)
            out += draw(panel, originX: originX, colours: names)
        }
        // Legend and footnotes.
        var y = Layout.top + Layout.panelHeight + Layout.bottom
        for (slot, name) in names.enumerated() {
            out.append(#"<line x1="\#(n(Layout.left))" y1="\#(n(y - 4))" x2="\#(n(Layout.left + 22))" y2="\#(n(y - 4))" stroke="\#(colour(slot))" stroke-width="2.5"/>"#)
            out.append(#"<text x="\#(n(Layout.left + 28))" y="\#(n(y))">\#(BoxPlot.xml(name))</text>"#)
            y += Layout.legendLine
        }
        for footnote in footnotes {
            out.append(#"<text x="\#(n(Layout.left))" y="\#(n(y))" font-size="10">\#(BoxPlot.xml(footnote))</text>"#)
            y += Layout.legendLine
        }
        if heading.extraHeight > 0 { out.append("</g>") }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    private func draw(_ panel: Panel, originX: Double, colours names: [String]) -> [String] {
        let points = panel.series.flatMap { $0.points + $0.highlighted }
        let xRange = panel.xRange ?? Self.paddedRange(points.map(\.x))
        let yRange = panel.yRange ?? Self.paddedRange(points.map(\.y))
        let xTicks = BoxPlot.niceTicks(low: xRange.lowerBound, high: xRange.upperBound).filter { xRange.contains($0) }
        let yTicks = BoxPlot.niceTicks(low: yRange.lowerBound, high: yRange.upperBound).filter { yRange.contains($0) }
        let top = Layout.top, bottom = Layout.top + Layout.panelHeight, right = originX + Layout.panelWidth
        func x(_ value: Double) -> Double { originX + (value - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * Layout.panelWidth }
        func y(_ value: Double) -> Double { bottom - (value - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * Layout.panelHeight }
        var out = [#"<text x="\#(n(originX + Layout.panelWidth / 2))" y="\#(n(top - 12))" text-anchor="middle" font-size="13">\#(BoxPlot.xml(panel.title))</text>"#]
        out.append(##"<g stroke="#dddddd" stroke-width="1">"##)
        for tick in yTicks { out.append(#"<line x1="\#(n(originX))" y1="\#(n(y(tick)))" x2="\#(n(right))" y2="\#(n(y(tick)))"/>"#) }
        for tick in xTicks { out.append(#"<line x1="\#(n(x(tick)))" y1="\#(n(top))" x2="\#(n(x(tick)))" y2="\#(n(bottom))"/>"#) }
        out.append("</g>")
        let (xDecimals, yDecimals) = (BoxPlot.decimals(for: xTicks), BoxPlot.decimals(for: yTicks))
        for tick in yTicks {
            out.append(#"<text x="\#(n(originX - 6))" y="\#(n(y(tick) + 4))" text-anchor="end">\#(SummaryTable.fixed(tick, decimals: yDecimals))</text>"#)
        }
        for tick in xTicks {
            out.append(#"<text x="\#(n(x(tick)))" y="\#(n(bottom + 16))" text-anchor="middle">\#(SummaryTable.fixed(tick, decimals: xDecimals))</text>"#)
        }
        out.append(#"<rect x="\#(n(originX))" y="\#(n(top))" width="\#(n(Layout.panelWidth))" height="\#(n(Layout.panelHeight))" fill="none" stroke="black"/>"#)
        out.append(#"<text x="\#(n(originX + Layout.panelWidth / 2))" y="\#(n(bottom + 36))" text-anchor="middle">\#(BoxPlot.xml(panel.xLabel))</text>"#)
        let middle = (top + bottom) / 2, labelX = originX - 46
        out.append(#"<text x="\#(n(labelX))" y="\#(n(middle))" text-anchor="middle" transform="rotate(-90 \#(n(labelX)) \#(n(middle)))">\#(BoxPlot.xml(panel.yLabel))</text>"#)
        if panel.diagonal {
            let low = max(xRange.lowerBound, yRange.lowerBound), high = min(xRange.upperBound, yRange.upperBound)
            out.append(##"<line x1="\##(n(x(low)))" y1="\##(n(y(low)))" x2="\##(n(x(high)))" y2="\##(n(y(high)))" stroke="#888888" stroke-dasharray="4 3"/>"##)
        }
        for series in panel.series {
            let colour = colour(names.firstIndex(of: series.name) ?? 0)
            let path = series.points.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(n(x($0.element.x))) \(n(y($0.element.y)))" }.joined()
            if series.points.count > 1 {
                out.append(#"<path d="\#(path)" fill="none" stroke="\#(colour)" stroke-width="1.8"\#(series.dashed ? #" stroke-dasharray="5 3""# : "")/>"#)
            }
            if series.dots || series.points.count == 1 {
                for point in series.points { out.append(#"<circle cx="\#(n(x(point.x)))" cy="\#(n(y(point.y)))" r="2.8" fill="\#(colour)"/>"#) }
            }
            for point in series.highlighted {
                out.append(#"<circle cx="\#(n(x(point.x)))" cy="\#(n(y(point.y)))" r="5" fill="none" stroke="\#(colour)" stroke-width="2"/>"#)
            }
        }
        return out
    }

    /// The data's range widened by 5% (a single value by ±0.5), so lines do not touch the frame.
    static func paddedRange(_ values: [Double]) -> ClosedRange<Double> {
        guard let low = values.min(), let high = values.max() else { return 0...1 }
        guard high > low else { return (low - 0.5)...(high + 0.5) }
        let pad = (high - low) * 0.05
        return (low - pad)...(high + pad)
    }

    private func colour(_ slot: Int) -> String { BoxPlot.palette[slot % BoxPlot.palette.count] }
    private func n(_ value: Double) -> String { BoxPlot.n(value) }
}
