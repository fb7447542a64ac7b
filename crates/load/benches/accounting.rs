//! What measuring one request costs the load engine, in nanoseconds: the
//! two monotonic timestamps around it, and recording it (a shard's
//! uncontended lock, one HDR histogram record, the counters). Run with
//! `cargo bench -p wirebench-load --bench accounting`.

use std::hint::black_box;
use std::time::Duration;

use tokio::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use wirebench_load::stats::ShardedTally;

fn accounting(c: &mut Criterion) {
    c.bench_function("timestamp: Instant::now() twice", |b| {
        b.iter(|| {
            let sent = Instant::now();
            let done = Instant::now();
            black_box(done - sent)
        })
    });

    let tally = ShardedTally::new(false);
    let mut i = 0u64;
    c.bench_function(
        "record one good response (lock, HDR record, counters)",
        |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let mut shard = tally.shard(i as usize);
                shard.record_ok(Duration::from_micros(i % 50_000 + 1), Duration::ZERO, 1024);
                shard.completed_at(Instant::now());
            })
        },
    );

    let open_loop = ShardedTally::new(true);
    c.bench_function(
        "record one good response, open loop (two histograms)",
        |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let mut shard = open_loop.shard(i as usize);
                shard.record_ok(
                    Duration::from_micros(i % 50_000 + 1),
                    Duration::from_micros(i % 40_000 + 1),
                    1024,
                );
                shard.completed_at(Instant::now());
            })
        },
    );

    c.bench_function(
        "whole accounting of one request (timestamps + record)",
        |b| {
            b.iter(|| {
                let sent = Instant::now();
                i = i.wrapping_add(1);
                let done = Instant::now();
                let mut shard = tally.shard(i as usize);
                shard.record_ok(done - sent, done - sent, 1024);
                shard.completed_at(done);
            })
        },
    );
}

criterion_group!(benches, accounting);
criterion_main!(benches);
