//! Each stack's colour, the same in every chart: a colour-blind-safe
//! palette (Okabe and Ito's without its yellow, unreadable on white, and
//! with a dark grey for its black, which would be taken for an axis; then
//! Paul Tol's muted), assigned in the order the stacks first ran; a
//! repeated trial is a lighter shade of its stack's colour, so no colour
//! is used twice in one chart.

use plotters::style::RGBColor;

use super::{LegendEntry, Series};
use crate::model::RunResult;

/// Okabe-Ito without yellow (unreadable on white), then Tol's muted.
const PALETTE: [(u8, u8, u8); 16] = [
    (0x00, 0x72, 0xB2),
    (0xD5, 0x5E, 0x00),
    (0x00, 0x9E, 0x73),
    (0xCC, 0x79, 0xA7),
    (0xE6, 0x9F, 0x00),
    (0x56, 0xB4, 0xE9),
    // Okabe-Ito's black would be taken for an axis: a dark grey instead.
    (0x44, 0x44, 0x44),
    (0x33, 0x22, 0x88),
    (0x88, 0x22, 0x55),
    (0x11, 0x77, 0x33),
    (0x99, 0x99, 0x33),
    (0xCC, 0x66, 0x77),
    (0x44, 0xAA, 0x99),
    (0xAA, 0x44, 0x99),
    (0x88, 0xCC, 0xEE),
    (0xDD, 0xCC, 0x77),
];

/// The run's stacks, each with its colour, in the order they first ran.
pub struct Palette {
    stacks: Vec<String>,
}

impl Palette {
    pub fn of(result: &RunResult) -> Palette {
        let mut stacks: Vec<String> = Vec::new();
        let names = result.trials.iter().map(|t| t.stack.name()).chain(
            result
                .capacity
                .iter()
                .map(|c| stack_of(&c.label).to_owned()),
        );
        for name in names {
            if !stacks.contains(&name) {
                stacks.push(name);
            }
        }
        Palette { stacks }
    }

    /// The colour of `stack`.
    pub fn base(&self, stack: &str) -> RGBColor {
        let index = self
            .stacks
            .iter()
            .position(|s| s == stack)
            .unwrap_or(self.stacks.len());
        let (r, g, b) = PALETTE[index % PALETTE.len()];
        RGBColor(r, g, b)
    }

    /// The colour a series named `name` is drawn in: its stack's, lighter
    /// for the second and later repetition ("rest #2").
    pub(super) fn shade(&self, name: &str) -> RGBColor {
        let RGBColor(r, g, b) = self.base(stack_of(name));
        let repetition = name
            .rsplit_once(" #")
            .and_then(|(_, k)| k.split_whitespace().next()?.parse::<u32>().ok())
            .unwrap_or(1);
        let towards_white = (0.28 * f64::from(repetition.saturating_sub(1))).min(0.7);
        let mix = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * towards_white).round() as u8;
        RGBColor(mix(r), mix(g), mix(b))
    }

    pub(super) fn legend(&self, series: &[Series]) -> Vec<LegendEntry> {
        series
            .iter()
            .filter(|s| !s.points.is_empty())
            .map(|s| LegendEntry {
                series: s.name.clone(),
                name: s.name.clone(),
                stack: stack_of(&s.name).to_owned(),
                colour: hex(self.base(stack_of(&s.name))),
                shade: hex(self.shade(&s.name)),
            })
            .collect()
    }
}

/// A series' stack: its name's first word ("grpc+tls (order down) #2").
pub(super) fn stack_of(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

pub(super) fn hex(RGBColor(r, g, b): RGBColor) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stack_keeps_one_colour_and_repetitions_are_lighter_shades() {
        let palette = Palette {
            stacks: vec!["rest".into(), "grpc".into(), "tcp".into()],
        };
        assert_eq!(hex(palette.base("rest")), "#0072b2");
        assert_eq!(hex(palette.shade("rest")), "#0072b2");
        assert_eq!(hex(palette.shade("rest #1")), "#0072b2");
        assert_ne!(hex(palette.shade("rest #2")), "#0072b2");
        assert_ne!(hex(palette.shade("rest #2")), hex(palette.shade("rest #3")));
        assert_eq!(
            palette.base("grpc"),
            palette.base(stack_of("grpc (order down) #2"))
        );
        let bases: std::collections::HashSet<String> = ["rest", "grpc", "tcp"]
            .iter()
            .map(|s| hex(palette.base(s)))
            .collect();
        assert_eq!(bases.len(), 3, "no two stacks share a colour");
    }
}
