//! How a trial is named in every report: its stack, and what sets it apart
//! from the run's other trials of the same stack.

use crate::model::{RunResult, Trial};

/// The trial's configuration: "rest", or "rest w2 p2" when the run varies
/// workers or processes; the same for every repetition.
pub fn group_label(result: &RunResult, trial: &Trial) -> String {
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

/// The trial itself: its configuration, and "#k" when the run repeats it.
pub fn trial_label(result: &RunResult, trial: &Trial) -> String {
    let mut label = group_label(result, trial);
    if result.trials.iter().any(|t| t.repetition > 0) {
        label.push_str(&format!(" #{}", trial.repetition + 1));
    }
    label
}
