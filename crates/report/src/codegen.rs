//! The message's codegen in the verdict. Production servers encode with
//! generated code; a dynamic trial (reflection, `--codegen dynamic`, or a
//! user schema served where no cargo could build it) costs several times
//! more and can flip a verdict. So a dynamic trial is never ranked against
//! a compiled one (its message names the codegen, "order (dynamic) down",
//! so it is a workload group of its own), the verdict says that its
//! figures are reflection's, and where a run has both (`--codegen
//! compiled,dynamic`), the factor: per stack, the dynamic trial's server
//! CPU per request over the compiled one's (medians of repetitions).

use crate::evidence;
use crate::model::{RunResult, Trial};
use crate::stats::Spread;

/// What a trial is matched on across codegens: everything but the
/// codegen itself.
fn counterpart_key(trial: &Trial) -> impl PartialEq + '_ {
    (
        trial.stack,
        trial
            .message
            .as_deref()
            .map(|m| m.replace(" (dynamic)", "")),
        trial.size_kb,
        trial.net.as_deref(),
        trial.json_codec.as_deref(),
        trial.server_workers,
        trial.server_processes,
    )
}

fn is(trial: &Trial, codegen: &str) -> bool {
    trial.codegen.as_deref() == Some(codegen)
}

/// The verdict's sentences on codegen: none in a run without dynamic
/// trials.
pub fn sentences(result: &RunResult) -> Vec<String> {
    let dynamic: Vec<&Trial> = result.trials.iter().filter(|t| is(t, "dynamic")).collect();
    if dynamic.is_empty() {
        return Vec::new();
    }
    let mut messages: Vec<&str> = Vec::new();
    for trial in &dynamic {
        if let Some(message) = trial.message.as_deref()
            && !messages.contains(&message)
        {
            messages.push(message);
        }
    }
    let mut sentences = vec![format!(
        "{}: reflection-based encoding, not what a compiled server costs; never ranked against compiled code.",
        messages.join(", ")
    )];
    // The factor: each dynamic configuration against its compiled twin,
    // from trials whose server CPU is long enough to be read
    // ([`crate::evidence`]).
    let median_cpu = |trials: &[&Trial]| {
        let values: Vec<f64> = trials
            .iter()
            .filter(|t| !t.interrupted && matches!(evidence::server_cpu(t), Some(Ok(()))))
            .filter_map(|t| t.costs.server_cpu_ms_per_request)
            .collect();
        Spread::of(&values).map(|s| s.median)
    };
    let mut by_message: Vec<(String, Vec<String>)> = Vec::new();
    let mut seen: Vec<&Trial> = Vec::new();
    for trial in &dynamic {
        if seen
            .iter()
            .any(|s| counterpart_key(s) == counterpart_key(trial))
        {
            continue;
        }
        seen.push(trial);
        let same = |t: &&Trial| counterpart_key(t) == counterpart_key(trial);
        let dynamic_trials: Vec<&Trial> = dynamic.iter().copied().filter(same).collect();
        let compiled_trials: Vec<&Trial> = result
            .trials
            .iter()
            .filter(|t| is(t, "compiled"))
            .filter(same)
            .collect();
        if compiled_trials.is_empty() {
            continue;
        }
        let clause = match (median_cpu(&dynamic_trials), median_cpu(&compiled_trials)) {
            (Some(slow), Some(fast)) if fast > 0.0 => {
                format!("{} {:.1}x", trial.stack, slow / fast)
            }
            _ => format!("{} too short to tell", trial.stack),
        };
        let message = trial
            .message
            .as_deref()
            .unwrap_or_default()
            .replace(" (dynamic)", "");
        match by_message.iter_mut().find(|(m, _)| *m == message) {
            Some((_, clauses)) => clauses.push(clause),
            None => by_message.push((message, vec![clause])),
        }
    }
    for (message, clauses) in by_message {
        sentences.push(format!(
            "Reflection's cost ({message}): server CPU per request, dynamic over compiled: {}.",
            clauses.join(", ")
        ));
    }
    sentences
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::result_fixture;

    #[test]
    fn dynamic_trials_are_named_and_set_against_their_compiled_twins() {
        let mut result = result_fixture();
        let mut trial = result.trials[0].clone();
        trial.workload = wirebench_proto::vocab::Workload::Message;
        trial.message = Some("order down".to_owned());
        trial.codegen = Some("compiled".to_owned());
        trial.costs.server_cpu_ms_per_request = Some(0.010);
        let server = |t: &mut Trial, cpu_s: f64| {
            let p = t
                .processes
                .iter_mut()
                .find(|p| !p.role.is_client())
                .unwrap();
            p.cpu_user_s = cpu_s;
            p.cpu_system_s = 0.0;
            p.cpu_clock = Some(wirebench_probe::CpuClock::ProcessClock);
        };
        server(&mut trial, 0.1);
        let mut dynamic = trial.clone();
        dynamic.message = Some("order (dynamic) down".to_owned());
        dynamic.codegen = Some("dynamic".to_owned());
        dynamic.costs.server_cpu_ms_per_request = Some(0.034);
        result.trials = vec![trial.clone()];
        assert!(sentences(&result).is_empty(), "compiled alone says nothing");
        result.trials = vec![trial.clone(), dynamic.clone()];
        let said = sentences(&result);
        assert!(
            said[1].contains("tcp too short to tell"),
            "0.1 s of CPU: {said:?}"
        );
        server(&mut trial, 0.3);
        server(&mut dynamic, 0.9);
        result.trials = vec![trial, dynamic];
        let said = sentences(&result);
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(
            said[0].starts_with(
                "order (dynamic) down: reflection-based encoding, not what a compiled server costs"
            ),
            "{said:?}"
        );
        assert!(
            said[1].contains("(order down)") && said[1].contains("3.4x"),
            "{said:?}"
        );
    }
}
