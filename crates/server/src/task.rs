//! Every task a server starts runs in its server's scope: the JSON codec
//! and the counters of its options ([`Scope`]). They are options of one
//! server, not switches of the process, yet the code that reads them is
//! far below any value passed down (tonic's generated services build the
//! JSON codec with `Default`; hyper spawns a task per HTTP/2 stream). So
//! [`crate::serve`] enters the scope once, and every task the server
//! spawns — connections, hyper's streams ([`Inherit`]), the pipeline's
//! hops, blocking handlers — is spawned here, in the scope of the task
//! that spawns it. `scripts/check-architecture.py` keeps any other spawn
//! out of the server crate.

use std::future::Future;
use std::sync::Arc;

use tokio::task::JoinHandle;
use wirebench_proto::json;

use crate::counters::{self, Counters};

/// What a server's tasks share: its JSON codec and its counters.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub json_codec: json::Codec,
    pub counters: Option<Arc<Counters>>,
}

impl Scope {
    /// The scope this code runs in (the defaults outside any server).
    pub fn current() -> Scope {
        Scope {
            json_codec: json::selected(),
            counters: counters::SCOPED.try_with(Clone::clone).ok().flatten(),
        }
    }

    /// Runs `work` in this scope.
    pub fn run<F: Future>(self, work: F) -> impl Future<Output = F::Output> {
        json::scope(self.json_codec, counters::SCOPED.scope(self.counters, work))
    }

    /// Runs synchronous `work` in this scope.
    pub fn run_sync<R>(self, work: impl FnOnce() -> R) -> R {
        json::sync_scope(self.json_codec, || {
            counters::SCOPED.sync_scope(self.counters, work)
        })
    }
}

/// Spawns `task` in the scope of the task that spawns it.
pub fn spawn<F>(task: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(Scope::current().run(task))
}

/// Spawns `task` into `set` (a server's connections, which it drains
/// when it stops) in the scope of the task that spawns it.
pub fn spawn_into<T: Send + 'static>(
    set: &mut tokio::task::JoinSet<T>,
    task: impl Future<Output = T> + Send + 'static,
) {
    set.spawn(Scope::current().run(task));
}

/// Runs `work` on a blocking thread, in the scope of the task that asks.
pub fn spawn_blocking<R, W>(work: W) -> JoinHandle<R>
where
    W: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let scope = Scope::current();
    tokio::task::spawn_blocking(move || scope.run_sync(work))
}

/// hyper's executor (HTTP/2 streams, the pipeline's client connections):
/// [`spawn`], so a stream's task has its connection's scope.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inherit;

impl<F> hyper::rt::Executor<F> for Inherit
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, task: F) {
        spawn(task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_spawned_task_and_a_blocking_one_keep_the_scope_they_were_spawned_in() {
        let counters = Arc::new(Counters::default());
        let scope = Scope {
            json_codec: json::Codec::SonicRs,
            counters: Some(counters.clone()),
        };
        let seen = scope
            .run(async {
                let spawned = spawn(async {
                    counters::count_request();
                    json::selected()
                });
                let blocking = spawn_blocking(|| {
                    counters::count_written(7);
                    json::selected()
                });
                (spawned.await.unwrap(), blocking.await.unwrap())
            })
            .await;
        assert_eq!(seen, (json::Codec::SonicRs, json::Codec::SonicRs));
        assert_eq!((counters.requests(), counters.bytes_written()), (1, 7));
        // Outside: the defaults, and nothing counted.
        counters::count_request();
        assert_eq!(json::selected(), json::Codec::SerdeJson);
        assert_eq!(
            tokio::spawn(async { json::selected() }).await.unwrap(),
            json::Codec::SerdeJson
        );
        assert_eq!(counters.requests(), 1);
    }
}
