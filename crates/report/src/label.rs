//! How a trial is named in every report: its stack, and what sets it apart
//! from the run's other trials of the same stack.

use crate::model::{RunResult, Trial};

/// "rest", or "rest w2 p2" when the run varies workers or processes.
pub fn trial_label(result: &RunResult, trial: &Trial) -> String {
    let varies =
        |f: fn(&Trial) -> Option<usize>| result.trials.iter().any(|t| f(t) != f(&result.trials[0]));
    let mut label = trial.stack.to_string();
    if let Some(variant) = &trial.variant {
        label.push_str(&format!(" ({variant})"));
    }
    if let Some(w) = trial
        .server_workers
        .filter(|_| varies(|t| t.server_workers))
    {
        label.push_str(&format!(" w{w}"));
    }
    if let Some(p) = trial
        .server_processes
        .filter(|&p| p > 1 || varies(|t| t.server_processes))
    {
        label.push_str(&format!(" p{p}"));
    }
    label
}
