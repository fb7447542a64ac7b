//! Several calls in one run, each picked by its weight: a mix of an API's
//! calls (70% GetOrder, 20% ListOrders, 10% CreateOrder), or several
//! targets (`load URL1 URL2`). Both are the same machinery: a [`Mixed`]
//! client holds one client per call, and the engine picks which call each
//! request is ([`Weights::pick`], in [`crate::weights`]) and tallies every call apart as well as
//! the whole.

use std::sync::Arc;

use crate::client::{Answer, Client, WireBytes};
use crate::engine::Call;
use crate::errors::RequestFailure;
pub use crate::weights::{MixError, Weights};

/// One client per call, each with its own connections (a call's server
/// may be another host), picked by weight.
pub struct Mixed<C = Client> {
    weights: Weights,
    calls: Vec<Arc<C>>,
}

impl<C: Call> Mixed<C> {
    /// `calls[i]` makes call `i` of `weights`.
    pub fn new(weights: Weights, calls: Vec<Arc<C>>) -> Mixed<C> {
        assert_eq!(weights.len(), calls.len(), "one client per call");
        Mixed { weights, calls }
    }

    /// Call `i`'s client.
    pub fn client(&self, i: usize) -> &C {
        &self.calls[i]
    }
}

impl<C: Call> Call for Mixed<C> {
    /// Call 0 (the engine always picks; see [`Call::call_picked`]).
    fn call(
        &self,
        sender_id: usize,
        timeout: std::time::Duration,
    ) -> impl Future<Output = Result<Answer, RequestFailure>> + Send {
        self.calls[0].call(sender_id, timeout)
    }

    fn call_picked(
        &self,
        pick: usize,
        sender_id: usize,
        timeout: std::time::Duration,
    ) -> impl Future<Output = Result<Answer, RequestFailure>> + Send {
        self.calls[pick].call(sender_id, timeout)
    }

    fn wire_bytes(&self) -> WireBytes {
        self.calls.iter().fold(WireBytes::default(), |sum, call| {
            sum.plus(call.wire_bytes())
        })
    }

    fn mix(&self) -> Option<&Weights> {
        Some(&self.weights)
    }

    fn wire_bytes_each(&self) -> Vec<WireBytes> {
        self.calls.iter().map(|call| call.wire_bytes()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights(calls: &[(&str, f64)]) -> Result<Weights, MixError> {
        let calls: Vec<(String, f64)> = calls.iter().map(|(n, w)| (n.to_string(), *w)).collect();
        Weights::new(&calls, 7)
    }

    #[test]
    fn picks_follow_the_weights_within_two_percent_over_ten_thousand_requests() {
        let mix = weights(&[
            ("GetOrder", 70.0),
            ("ListOrders", 20.0),
            ("CreateOrder", 10.0),
        ])
        .unwrap();
        let mut counts = [0u32; 3];
        for k in 0..10_000 {
            counts[mix.pick(k)] += 1;
        }
        for (i, want) in [0.7, 0.2, 0.1].into_iter().enumerate() {
            let got = f64::from(counts[i]) / 10_000.0;
            assert!(
                (got - want).abs() <= 0.02 * want,
                "call {i}: {got} of the requests for a weight of {want} ({counts:?})"
            );
        }
    }

    #[test]
    fn shards_together_pick_what_one_run_picks() {
        let mix = weights(&[("a", 3.0), ("b", 1.0)]).unwrap();
        let whole: Vec<usize> = (0..1000).map(|k| mix.pick(k)).collect();
        // Two agents: agent i takes the plan's requests 2j + i.
        let mut merged = vec![0; 1000];
        for index in 0..2u64 {
            for j in 0..500u64 {
                let k = j * 2 + index;
                merged[k as usize] = mix.pick(k);
            }
        }
        assert_eq!(whole, merged);
    }

    #[test]
    fn the_seed_changes_the_sequence_not_the_shares() {
        let calls = vec![("a".to_string(), 1.0), ("b".to_string(), 1.0)];
        let one = Weights::new(&calls, 1).unwrap();
        let two = Weights::new(&calls, 2).unwrap();
        let seq = |w: &Weights| (0..64).map(|k| w.pick(k)).collect::<Vec<_>>();
        assert_ne!(seq(&one), seq(&two));
        assert_eq!(seq(&one), seq(&Weights::new(&calls, 1).unwrap()));
        let ones = (0..10_000).filter(|&k| two.pick(k) == 1).count();
        assert!((4_900..=5_100).contains(&ones), "{ones}");
    }

    #[test]
    fn bad_weights_and_names_are_refused() {
        assert_eq!(weights(&[]), Err(MixError::Empty));
        assert!(matches!(
            weights(&[("a", 0.0)]),
            Err(MixError::NotPositive { .. })
        ));
        assert!(matches!(
            weights(&[("a", f64::NAN)]),
            Err(MixError::NotPositive { .. })
        ));
        assert_eq!(
            weights(&[("a", 1.0), ("a", 2.0)]),
            Err(MixError::Duplicate("a".into()))
        );
    }
}
