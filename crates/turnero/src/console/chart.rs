//! Charts drawn on the server as SVG: no script, nothing to download, readable on a phone.
//! Each chart carries its own title for screen readers; the page beside it shows the same
//! numbers as text.

use std::fmt::Write;

/// One bar: its label (shown under the first and last bars) and its stacked parts, in the
/// order of the series.
pub struct Bar {
    pub label: String,
    pub parts: Vec<u64>,
}

/// A series: its name (for the title) and its colour.
pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
}

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const AXIS: f64 = 18.0;

/// Stacked bars, tallest bar at full height; `title` names the chart for screen readers.
pub fn stacked_bars(title: &str, series: &[Series<'_>], bars: &[Bar]) -> String {
    let most = bars
        .iter()
        .map(|b| b.parts.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let plot = HEIGHT - AXIS;
    let step = WIDTH / bars.len().max(1) as f64;
    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-label=\"{}\" preserveAspectRatio=\"none\"><title>{}</title>",
        escape(title),
        escape(title)
    );
    let _ = write!(
        svg,
        "<line x1=\"0\" y1=\"{plot}\" x2=\"{WIDTH}\" y2=\"{plot}\" stroke=\"#888\"/>"
    );
    for (i, bar) in bars.iter().enumerate() {
        let x = i as f64 * step + step * 0.1;
        let mut top = plot;
        for (part, s) in bar.parts.iter().zip(series) {
            if *part == 0 {
                continue;
            }
            let h = *part as f64 / most as f64 * (plot - 4.0);
            top -= h;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{} {}: {part}</title></rect>",
                step * 0.8,
                s.colour,
                escape(&bar.label),
                escape(s.name)
            );
        }
    }
    if let (Some(first), Some(last)) = (bars.first(), bars.last()) {
        let _ = write!(
            svg,
            "<text x=\"2\" y=\"{}\" font-size=\"12\">{}</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text>",
            HEIGHT - 4.0,
            escape(&first.label),
            WIDTH - 2.0,
            HEIGHT - 4.0,
            escape(&last.label)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"2\" y=\"12\" font-size=\"12\">{most}</text></svg>"
    );
    svg
}

/// One labelled bar of [`labelled_bars`].
pub struct Labelled {
    pub label: String,
    pub value: u64,
    pub colour: &'static str,
}

const ROW: f64 = 22.0;
const LABELS: f64 = 190.0;

/// Horizontal bars, one per row, each with its label and count: how a campaign's messages
/// ended. The longest bar fills the width.
pub fn labelled_bars(title: &str, bars: &[Labelled]) -> String {
    let most = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let height = ROW * bars.len().max(1) as f64;
    let room = WIDTH - LABELS - 50.0;
    let mut svg = String::with_capacity(2048);
    let _ = write!(
        svg,
        "<svg class=\"chart outcomes\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-label=\"{}\"><title>{}</title>",
        escape(title),
        escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = i as f64 * ROW;
        let w = bar.value as f64 / most as f64 * room;
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LABELS}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\">{}</text>",
            LABELS - 6.0,
            y + 15.0,
            escape(&bar.label),
            y + 3.0,
            ROW - 6.0,
            bar.colour,
            LABELS + w + 4.0,
            y + 15.0,
            bar.value
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Text as HTML (and SVG) text or attribute value.
pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tallest_bar_fills_the_plot_and_empty_parts_draw_nothing() {
        let series = [
            Series {
                name: "ok",
                colour: "#2e7d32",
            },
            Series {
                name: "failed",
                colour: "#c62828",
            },
        ];
        let bars = vec![
            Bar {
                label: "10:00".into(),
                parts: vec![3, 1],
            },
            Bar {
                label: "10:01".into(),
                parts: vec![0, 0],
            },
            Bar {
                label: "10:02 <x>".into(),
                parts: vec![0, 2],
            },
        ];
        let svg = stacked_bars("Deliveries", &series, &bars);
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains("10:00 failed: 1"));
        assert!(svg.contains("10:02 &lt;x&gt;"), "labels are escaped: {svg}");
        // 4 attempts at most: the first bar's parts stack to the full plot height.
        let heights: Vec<f64> = svg
            .split("height=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
            .collect();
        assert!(
            (heights[0] + heights[1] - (HEIGHT - AXIS - 4.0)).abs() < 0.2,
            "{heights:?}"
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn labelled_bars_scale_to_the_longest_and_say_each_count() {
        let bars = [
            Labelled {
                label: "sent".into(),
                value: 10,
                colour: "#1",
            },
            Labelled {
                label: "failed: no_phone".into(),
                value: 5,
                colour: "#2",
            },
            Labelled {
                label: "read".into(),
                value: 0,
                colour: "#3",
            },
        ];
        let svg = labelled_bars("How it went", &bars);
        let widths: Vec<f64> = svg
            .split(" width=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
            .collect();
        assert_eq!(widths.len(), 3);
        assert!((widths[0] - 2.0 * widths[1]).abs() < 0.2, "{widths:?}");
        assert_eq!(widths[2], 0.0);
        assert!(svg.contains(">failed: no_phone</text>") && svg.contains(">5</text>"));
    }
}
