//! From flags to a [`LoadPlan`]: which load model the flags name, when the
//! run stops, how many connections. Conflicting flags are refused here with
//! a message that says what to do; nothing downstream re-checks them.

use std::time::Duration;

use wirebench_load::{LoadModel, LoadPlan, PlanError, StopAt};

use crate::args::LoadArgs;

/// ghz's and oha's default concurrency.
pub const DEFAULT_CONCURRENCY: u32 = 50;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Shard(#[from] wirebench_load::shard::ShardError),
}

/// What a command uses for flags that were not given.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub stop: StopAt,
    pub warmup: Duration,
}

pub fn load_model(args: &LoadArgs) -> Result<LoadModel, SettingsError> {
    // A schedule's model holds its peak; the schedule moves below it.
    match (&args.rate_schedule, &args.concurrency_schedule) {
        (Some(_), Some(_)) => {
            return Err(SettingsError::Conflict(
                "--rate-schedule (open loop) and --concurrency-schedule (closed loop) are different models: give one",
            ));
        }
        (Some(schedule), None) => {
            if args.rate.is_some() || args.users.is_some() {
                return Err(SettingsError::Conflict(
                    "--rate-schedule sets the rate: not with --rate or -u",
                ));
            }
            return Ok(LoadModel::Rate {
                rate_per_s: schedule.peak(),
                max_in_flight: args.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
            });
        }
        (None, Some(schedule)) => {
            if args.rate.is_some() || args.users.is_some() || args.concurrency.is_some() {
                return Err(SettingsError::Conflict(
                    "--concurrency-schedule sets the concurrency: not with -c, --rate or -u",
                ));
            }
            return Ok(LoadModel::Fixed {
                concurrency: schedule.peak().floor().max(1.0) as u32,
            });
        }
        (None, None) => {}
    }
    match (args.rate, args.users) {
        (Some(_), Some(_)) => Err(SettingsError::Conflict(
            "--rate (open loop) and -u (Locust users) are different load models: give one",
        )),
        (Some(rate_per_s), None) => Ok(LoadModel::Rate {
            rate_per_s,
            max_in_flight: args.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
        }),
        (None, Some(users)) => {
            if args.concurrency.is_some() {
                return Err(SettingsError::Conflict(
                    "-u (Locust users) and -c (ab/ghz concurrency) are different load models: give one",
                ));
            }
            Ok(LoadModel::Users {
                users,
                spawn_rate_per_s: args.spawn_rate.unwrap_or(1.0),
            })
        }
        (None, None) => {
            if args.spawn_rate.is_some() {
                return Err(SettingsError::Conflict(
                    "-r/--spawn-rate belongs to the users model: give -u too",
                ));
            }
            Ok(LoadModel::Fixed {
                concurrency: args.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
            })
        }
    }
}

pub fn stop_at(
    args: &LoadArgs,
    model: LoadModel,
    defaults: Defaults,
) -> Result<StopAt, SettingsError> {
    match (args.requests, args.duration) {
        (Some(_), Some(_)) => Err(SettingsError::Conflict(
            "-n (a count) and -t (a duration) both say when to stop: give one",
        )),
        (Some(n), None) => Ok(StopAt::Requests(n)),
        (None, Some(t)) => Ok(StopAt::Duration(t)),
        (None, None) => Ok(match (model, defaults.stop) {
            // Locust runs for a time, never for a count.
            (LoadModel::Users { .. }, StopAt::Requests(_)) => {
                StopAt::Duration(Duration::from_secs(10))
            }
            (_, stop) => stop,
        }),
    }
}

/// Resolves the load flags into a validated plan; `default_connections`
/// maps the number of senders to the protocol's default connection count.
pub fn load_plan(
    args: &LoadArgs,
    defaults: Defaults,
    default_connections: impl Fn(u32) -> u32,
) -> Result<LoadPlan, SettingsError> {
    let model = load_model(args)?;
    let schedule = args.rate_schedule.or(args.concurrency_schedule);
    let stop = match (schedule, args.duration, args.requests) {
        // A schedule runs whole unless told otherwise.
        (Some(schedule), None, None) => {
            StopAt::Duration(Duration::from_secs_f64(schedule.default_duration_s()))
        }
        _ => stop_at(args, model, defaults)?,
    };
    let connections = args
        .connections
        .unwrap_or_else(|| default_connections(model.senders()));
    let plan = LoadPlan::new(
        model,
        stop,
        args.warmup.unwrap_or(defaults.warmup),
        args.timeout.unwrap_or(DEFAULT_TIMEOUT),
        connections,
    )?;
    let plan = match schedule {
        Some(schedule) => plan.with_schedule(schedule)?,
        None => plan,
    };
    let plan = match args.skip_first {
        Some(skip) => plan.with_skip_first(skip)?,
        None => plan,
    };
    let shard = args.agent.shard()?;
    Ok(if shard.is_whole() {
        plan
    } else {
        plan.sharded(shard)?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: Defaults = Defaults {
        stop: StopAt::Requests(200),
        warmup: Duration::ZERO,
    };

    #[test]
    fn flags_name_the_model() {
        let args = |f: fn(&mut LoadArgs)| {
            let mut a = LoadArgs::default();
            f(&mut a);
            a
        };
        assert_eq!(
            load_model(&args(|_| {})).unwrap(),
            LoadModel::Fixed { concurrency: 50 }
        );
        assert_eq!(
            load_model(&args(|a| {
                a.users = Some(100);
                a.spawn_rate = Some(10.0)
            }))
            .unwrap(),
            LoadModel::Users {
                users: 100,
                spawn_rate_per_s: 10.0
            }
        );
        assert_eq!(
            load_model(&args(|a| {
                a.rate = Some(500.0);
                a.concurrency = Some(8)
            }))
            .unwrap(),
            LoadModel::Rate {
                rate_per_s: 500.0,
                max_in_flight: 8
            }
        );
        assert!(load_model(&args(|a| a.spawn_rate = Some(1.0))).is_err());
        assert!(
            load_model(&args(|a| {
                a.users = Some(1);
                a.concurrency = Some(1)
            }))
            .is_err()
        );
    }

    #[test]
    fn schedules_set_the_model_at_their_peak_and_run_whole() {
        let rate = LoadArgs {
            rate_schedule: Some("step,start=100,end=400,step=100,every=2s".parse().unwrap()),
            ..LoadArgs::default()
        };
        let plan = load_plan(&rate, DEFAULTS, |senders| senders).unwrap();
        assert_eq!(
            plan.model(),
            LoadModel::Rate {
                rate_per_s: 400.0,
                max_in_flight: 50
            }
        );
        assert_eq!(plan.stop(), StopAt::Duration(Duration::from_secs(8)));
        let users = LoadArgs {
            concurrency_schedule: Some("line,start=1,end=20,over=10s".parse().unwrap()),
            ..LoadArgs::default()
        };
        let plan = load_plan(&users, DEFAULTS, |senders| senders).unwrap();
        assert_eq!(plan.model(), LoadModel::Fixed { concurrency: 20 });
        assert_eq!(plan.connections(), 20);
        let both = LoadArgs {
            rate: Some(5.0),
            ..rate
        };
        assert!(load_plan(&both, DEFAULTS, |s| s).is_err());
    }

    #[test]
    fn stop_and_connections() {
        let mut a = LoadArgs {
            users: Some(10),
            ..LoadArgs::default()
        };
        let plan = load_plan(&a, DEFAULTS, |senders| senders).unwrap();
        assert_eq!(plan.stop(), StopAt::Duration(Duration::from_secs(10)));
        assert_eq!(plan.connections(), 10);
        a.requests = Some(5);
        a.duration = Some(Duration::from_secs(1));
        assert!(load_plan(&a, DEFAULTS, |_| 1).is_err());
        let grpc = load_plan(&LoadArgs::default(), DEFAULTS, |_| 1).unwrap();
        assert_eq!(
            (grpc.connections(), grpc.stop()),
            (1, StopAt::Requests(200))
        );
    }
}
