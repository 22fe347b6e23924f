import Foundation

extension BoxPlot {
    /// Layout constants, in SVG user units (pixels).
    private enum Layout {
        static let left = 70.0, right = 20.0, top = 50.0, plotHeight = 240.0, bottom = 80.0
        static let boxWidth = 28.0, slotWidth = 36.0, groupGap = 30.0, bracketStep = 18.0, minimumWidth = 460.0
    }

    /// The plot as a standalone SVG document: pure text, deterministic (coordinates printed
    /// with one decimal), with Tukey boxes (quartiles, median, 1.5 IQR whiskers, outliers).
    public func svg() -> String {
        let names = seriesNames
        let slotCount = max(names.count, 1)
        let groupCount = Double(max(groups.count, 1))
        // Groups widen so that the figure is at least wide enough for the legend's footnote.
        let groupWidth = max(Double(slotCount) * Layout.slotWidth + Layout.groupGap,
                             (Layout.minimumWidth - Layout.left - Layout.right) / groupCount)
        let width = Layout.left + groupCount * groupWidth + Layout.right
        let heading = SVGTitle(title, width: width - 20)
        // Small test subgroups take a line for their n under the group and one of small print.
        let smallExtra = groups.contains(where: isSmall) ? 28.0 : 0
        let height = Layout.top + Layout.plotHeight + Layout.bottom + heading.extraHeight + smallExtra
        let boxes = groups.map { group in group.series.map { ($0.name, BoxStatistics($0.values)) } }

        // The y range covers every value; brackets take extra levels above.
        let allValues = groups.flatMap { $0.series.flatMap(\.values) }
        var low = allValues.min() ?? 0, high = allValues.max() ?? 1
        if high - low < 1e-12 { low -= 0.05; high += 0.05 }
        let bracketLevels = Dictionary(grouping: comparisons, by: \.group).values.map(\.count).max() ?? 0
        let ticks = Self.niceTicks(low: low, high: high)
        let axisLow = min(ticks.first ?? low, low), dataHigh = max(ticks.last ?? high, high)
        // Reserve room for brackets: each level takes bracketStep pixels of the plot height.
        let reserved = Double(bracketLevels) * Layout.bracketStep
        let plotBottom = Layout.top + Layout.plotHeight
        let dataTop = Layout.top + reserved
        func y(_ value: Double) -> Double {
            plotBottom - (value - axisLow) / (dataHigh - axisLow) * (plotBottom - dataTop)
        }
        func x(group: Int, slot: Int) -> Double {
            Layout.left + Double(group) * groupWidth + (groupWidth - Double(slotCount) * Layout.slotWidth) / 2
                + (Double(slot) + 0.5) * Layout.slotWidth
        }

        var out: [String] = []
        out.append(#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Self.n(width))" height="\#(Self.n(height))" "#
            + #"viewBox="0 0 \#(Self.n(width)) \#(Self.n(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">"#)
        out.append("<title>\(Self.xml(title))</title>")
        out.append(#"<rect width="100%" height="100%" fill="white"/>"#)
        out.append(heading.svg(x: width / 2, y: "24", anchor: "middle", number: Self.n, escape: Self.xml))
        // Everything below a title that wraps moves down by its extra lines.
        if heading.extraHeight > 0 { out.append(#"<g transform="translate(0 \#(Self.n(heading.extraHeight)))">"#) }
        // Axes, grid and ticks.
        out.append(##"<g stroke="#cccccc" stroke-width="1">"##)
        for tick in ticks where tick >= axisLow && tick <= dataHigh {
            out.append(#"<line x1="\#(Self.n(Layout.left))" y1="\#(Self.n(y(tick)))" x2="\#(Self.n(width - Layout.right))" y2="\#(Self.n(y(tick)))"/>"#)
        }
        out.append("</g>")
        out.append(#"<g text-anchor="end">"#)
        let tickDecimals = Self.decimals(for: ticks)
        for tick in ticks where tick >= axisLow && tick <= dataHigh {
            out.append(#"<text x="\#(Self.n(Layout.left - 6))" y="\#(Self.n(y(tick) + 4))">\#(SummaryTable.fixed(tick, decimals: tickDecimals))</text>"#)
        }
        out.append("</g>")
        out.append(#"<line x1="\#(Self.n(Layout.left))" y1="\#(Self.n(Layout.top))" x2="\#(Self.n(Layout.left))" y2="\#(Self.n(plotBottom))" stroke="black"/>"#)
        out.append(#"<line x1="\#(Self.n(Layout.left))" y1="\#(Self.n(plotBottom))" x2="\#(Self.n(width - Layout.right))" y2="\#(Self.n(plotBottom))" stroke="black"/>"#)
        let middleY = Self.n((Layout.top + plotBottom) / 2)
        out.append(#"<text x="18" y="\#(middleY)" text-anchor="middle" transform="rotate(-90 18 \#(middleY))">\#(Self.xml(yLabel))</text>"#)

        // Boxes.
        for (groupIndex, group) in groups.enumerated() {
            let center = Layout.left + (Double(groupIndex) + 0.5) * groupWidth
            out.append(#"<text x="\#(Self.n(center))" y="\#(Self.n(plotBottom + 18))" text-anchor="middle">\#(Self.xml(group.name))</text>"#)
            if isSmall(group), let count = group.sampleCount {
                out.append(##"<text x="\##(Self.n(center))" y="\##(Self.n(plotBottom + 32))" text-anchor="middle" font-size="11" fill="#B00020">n = \##(count) ‡</text>"##)
            }
            for (name, statistics) in boxes[groupIndex] {
                guard let box = statistics, let slot = names.firstIndex(of: name) else { continue }
                let colour = Self.palette[slot % Self.palette.count]
                let middle = x(group: groupIndex, slot: slot)
                let (left, right) = (middle - Layout.boxWidth / 2, middle + Layout.boxWidth / 2)
                out.append(#"<g stroke="black" stroke-width="1">"#)
                out.append(#"<line x1="\#(Self.n(middle))" y1="\#(Self.n(y(box.upperWhisker)))" x2="\#(Self.n(middle))" y2="\#(Self.n(y(box.thirdQuartile)))"/>"#)
                out.append(#"<line x1="\#(Self.n(middle))" y1="\#(Self.n(y(box.firstQuartile)))" x2="\#(Self.n(middle))" y2="\#(Self.n(y(box.lowerWhisker)))"/>"#)
                for whisker in [box.lowerWhisker, box.upperWhisker] {
                    out.append(#"<line x1="\#(Self.n(middle - 7))" y1="\#(Self.n(y(whisker)))" x2="\#(Self.n(middle + 7))" y2="\#(Self.n(y(whisker)))"/>"#)
                }
                let boxTop = y(box.thirdQuartile), boxHeight = y(box.firstQuartile) - y(box.thirdQuartile)
                out.append(#"<rect x="\#(Self.n(left))" y="\#(Self.n(boxTop))" width="\#(Self.n(Layout.boxWidth))" height="\#(Self.n(boxHeight))" fill="\#(colour)" fill-opacity="0.75"/>"#)
                out.append(#"<line x1="\#(Self.n(left))" y1="\#(Self.n(y(box.median)))" x2="\#(Self.n(right))" y2="\#(Self.n(y(box.median)))" stroke-width="2"/>"#)
                for outlier in box.outliers {
                    out.append(#"<circle cx="\#(Self.n(middle))" cy="\#(Self.n(y(outlier)))" r="2" fill="none"/>"#)
                }
                out.append("</g>")
            }
        }

        // Significance brackets, stacked upwards from the top of the group's highest value.
        for (groupIndex, group) in groups.enumerated() {
            let groupTop = group.series.flatMap(\.values).max().map(y) ?? dataTop
            var level = 0
            for comparison in comparisons where comparison.group == group.name {
                guard let first = names.firstIndex(of: comparison.series1),
                      let second = names.firstIndex(of: comparison.series2) else { continue }
                let barY = groupTop - 8 - Double(level) * Layout.bracketStep
                let (x1, x2) = (x(group: groupIndex, slot: min(first, second)), x(group: groupIndex, slot: max(first, second)))
                out.append(#"<path d="M\#(Self.n(x1)) \#(Self.n(barY + 5))V\#(Self.n(barY))H\#(Self.n(x2))V\#(Self.n(barY + 5))" fill="none" stroke="black"/>"#)
                let marker = isSmall(group) ? "n &lt; \(smallSampleThreshold ?? 0)" : comparison.marker
                out.append(#"<text x="\#(Self.n((x1 + x2) / 2))" y="\#(Self.n(barY - 3))" text-anchor="middle" font-size="11">\#(marker)</text>"#)
                level += 1
            }
        }

        // Legend.
        let legendY = plotBottom + 44 + smallExtra / 2
        out.append(#"<text x="\#(Self.n(Layout.left))" y="\#(Self.n(legendY + 10))">\#(Self.xml(legendTitle)):</text>"#)
        var legendX = Layout.left + 8 + Double(legendTitle.count + 1) * 7
        for (slot, name) in names.enumerated() {
            out.append(#"<rect x="\#(Self.n(legendX))" y="\#(Self.n(legendY))" width="12" height="12" fill="\#(Self.palette[slot % Self.palette.count])" fill-opacity="0.75" stroke="black"/>"#)
            out.append(#"<text x="\#(Self.n(legendX + 16))" y="\#(Self.n(legendY + 10))">\#(Self.xml(name))</text>"#)
            legendX += 16 + Double(name.count) * 7 + 16
        }
        out.append(#"<text x="\#(Self.n(Layout.left))" y="\#(Self.n(legendY + 28))" font-size="10">"#
            + "Mann–Whitney U: * p &lt; 0.05, ** p &lt; 0.01, *** p &lt; 0.001, ns not significant</text>")
        if groups.contains(where: isSmall), let threshold = smallSampleThreshold {
            out.append(#"<text x="\#(Self.n(Layout.left))" y="\#(Self.n(legendY + 42))" font-size="10">"#
                + "‡ fewer than \(threshold) test samples: no stars (docs/RESULTS.md, small samples)</text>")
        }
        if heading.extraHeight > 0 { out.append("</g>") }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// About five round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 × 10^k.
    static func niceTicks(low: Double, high: Double) -> [Double] {
        let rawStep = (high - low) / 5
        let magnitude = pow(10, (log10(rawStep)).rounded(.down))
        let step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rawStep } ?? 10 * magnitude
        let first = (low / step).rounded(.down)
        let last = (high / step).rounded(.up)
        return stride(from: first, through: last, by: 1).map { ($0 * step * 1e9).rounded() / 1e9 }
    }

    /// Decimals enough to tell the ticks apart.
    static func decimals(for ticks: [Double]) -> Int {
        (0...6).first { digits in
            Set(ticks.map { SummaryTable.fixed($0, decimals: digits) }).count == ticks.count
                && ticks.allSatisfy { abs((Double(SummaryTable.fixed($0, decimals: digits)) ?? 0) - $0) < 1e-9 }
        } ?? 6
    }

    /// A coordinate with one decimal.
    static func n(_ value: Double) -> String { SummaryTable.fixed(value, decimals: 1) }

    /// Text escaped for XML.
    static func xml(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
