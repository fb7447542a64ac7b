//! What plotters' SVG does not say by itself: each point's value on hover
//! and its series (for the legend to hide it), and, as a file of its own
//! for the Markdown report, the legend the HTML page draws as HTML.

use plotters::style::RGBColor;

use super::palette::hex;
use super::{Chart, LABEL_PX};
use crate::export::escape;

/// The chart as a standalone SVG file: its legend drawn under the plot
/// (the HTML page draws it as HTML instead), the view made taller for it.
pub fn standalone(chart: &Chart) -> String {
    const ROW: u32 = 22;
    const SWATCH: u32 = 22;
    let Some(view) = chart
        .svg
        .split("viewBox=\"0 0 ")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
    else {
        return chart.svg.clone();
    };
    let mut size = view
        .split_whitespace()
        .filter_map(|n| n.parse::<u32>().ok());
    let (Some(width), Some(height)) = (size.next(), size.next()) else {
        return chart.svg.clone();
    };
    let mut items = String::new();
    let (mut x, mut y) = (12, height + 6);
    for entry in &chart.legend {
        let text_width = 8 * entry.name.chars().count() as u32;
        if x + SWATCH + 6 + text_width > width && x > 12 {
            x = 12;
            y += ROW;
        }
        items.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"{SWATCH}\" height=\"5\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-family=\"sans-serif\" font-size=\"{LABEL_PX}\">{}</text>",
            y + 7,
            entry.shade,
            x + SWATCH + 6,
            y + 13,
            escape(&entry.name)
        ));
        x += SWATCH + 6 + text_width + 18;
    }
    let grown = y + ROW + 4;
    chart
        .svg
        .replacen(
            &format!("viewBox=\"0 0 {width} {height}\""),
            &format!("viewBox=\"0 0 {width} {grown}\""),
            1,
        )
        .replacen(
            "</svg>",
            &format!(
                "<rect x=\"0\" y=\"{height}\" width=\"{width}\" height=\"{}\" fill=\"#FFFFFF\"/>{items}</svg>",
                grown - height
            ),
            1,
        )
}

/// One drawn point: its colour (to find it in the SVG), its series and
/// what hovering it says.
pub(super) struct Mark {
    pub(super) colour: RGBColor,
    pub(super) series: String,
    pub(super) title: String,
}

/// Tags the SVG's points and lines with their series (`data-series`, for
/// the legend to hide them) and gives each point a `<title>`: the exact
/// value on hover, without a script. plotters draws each series' circles
/// in order and in its own colour (no colour is used twice in a chart),
/// so the k-th circle of a colour is that colour's k-th mark; a chart
/// whose circles do not match its marks one to one is left untagged.
pub(super) fn annotate(svg: &str, marks: &[Mark], lines: &[(RGBColor, String)]) -> String {
    let colour_of = |c: RGBColor| hex(c).to_uppercase();
    let mut queues: std::collections::HashMap<String, std::collections::VecDeque<&Mark>> =
        std::collections::HashMap::new();
    for mark in marks {
        queues
            .entry(colour_of(mark.colour))
            .or_default()
            .push_back(mark);
    }
    let circles = svg.matches("<circle ").count();
    let wanted = marks.len();
    let counted: usize = queues
        .keys()
        .map(|c| svg.matches(&format!("fill=\"{c}\"")).count())
        .sum();
    if circles < wanted || counted != wanted {
        return svg.to_owned();
    }
    let line_of: std::collections::HashMap<String, &str> = lines
        .iter()
        .map(|(c, name)| (colour_of(*c), name.as_str()))
        .collect();
    let mut out = String::with_capacity(svg.len() + wanted * 64);
    let mut rest = svg;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find("/>") else { break };
        let element = &rest[..end];
        let attr = |name: &str| {
            element
                .split(&format!("{name}=\""))
                .nth(1)
                .and_then(|v| v.split('"').next())
                .map(str::to_uppercase)
        };
        if element.starts_with("<circle ")
            && let Some(mark) = attr("fill").and_then(|c| queues.get_mut(&c)?.pop_front())
        {
            out.push_str(&format!(
                "{element} data-series=\"{}\"><title>{}</title></circle>",
                escape(&mark.series),
                escape(&mark.title)
            ));
            rest = &rest[end + 2..];
        } else if element.starts_with("<polyline ")
            && let Some(name) = attr("stroke").and_then(|c| line_of.get(&c).copied())
        {
            out.push_str(&format!("{element} data-series=\"{}\"/>", escape(name)));
            rest = &rest[end + 2..];
        } else {
            // Not a point or line of a series: as it was, up to its tag's end.
            let close = rest.find('>').map_or(rest.len(), |i| i + 1);
            out.push_str(&rest[..close]);
            rest = &rest[close..];
        }
    }
    out.push_str(rest);
    out
}
