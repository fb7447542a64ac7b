//! wirebench's result: one versioned JSON document (run metadata +
//! per-trial statistics), written atomically after every trial, and the
//! exporters that render it. The serialized field names are a contract that
//! other tools read: units are in the names (`_us`, `_s`, `_rps`, `_bytes`),
//! and `schema_version` changes when a name or meaning changes.

pub mod capacity;
pub mod codegen;
pub mod compare;
pub mod costs;
pub mod decision;
pub mod evidence;
pub mod export;
pub mod format;
pub mod grid;
pub mod histogram;
pub mod label;
pub mod lateness;
pub mod merge;
pub mod model;
pub mod notes;
pub mod profile;
pub mod stats;
pub mod summary;
pub mod sweep;
pub mod threshold;
pub mod verdict;
pub mod write;

pub use decision::View;
pub use export::{
    CsvExporter, Exporter, Format, HtmlExporter, InfluxExporter, JsonExporter, MarkdownExporter,
    PrometheusExporter, TableExporter,
};
pub use merge::{Agent, MergeError, merge};
pub use model::{
    CallResult, Costs, LatencySummary, Machine, Placement, RunInfo, RunResult, SCHEMA_VERSION,
    TimelinePoint, Trial,
};
pub use write::write_atomically;
