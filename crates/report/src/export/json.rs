//! The result document itself, pretty-printed.

use super::Exporter;
use crate::decision::View;
use crate::model::RunResult;

pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn render_as(&self, result: &RunResult, _view: &View) -> String {
        let mut text = serde_json::to_string_pretty(result).expect("the result model serializes");
        text.push('\n');
        text
    }
}
