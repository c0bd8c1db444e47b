//! The order the worker runs its queued jobs in (docs/protocol.md §4.3):
//! escrow jobs first, in arrival order (each is paid on its own and has its
//! own deadline); then pass jobs by smooth weighted round-robin over the
//! clients waiting, client `r`'s weight `floor(s_r / s_min)` of its pass
//! stake `s_r` ([`agora_primitives::passes::round_robin_weight`]), so that a
//! client with twice the stake is served twice as often, and nobody starves.
use std::collections::{BTreeMap, VecDeque};

/// Which queue a job waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
	/// An escrow job.
	Escrow,
	/// A pass job of `client`, whose pass has `stake` locked.
	Pass { client: [u8; 32], stake: u128 },
}

#[derive(Default, Debug)]
struct Waiting {
	stake: u128,
	jobs: VecDeque<u64>,
	/// Smooth round-robin's running credit.
	credit: i128,
}

/// The queued jobs.
#[derive(Default, Debug)]
pub struct Schedule {
	escrow: VecDeque<u64>,
	pass: BTreeMap<[u8; 32], Waiting>,
}

impl Schedule {
	/// Queues job `id`.
	pub fn push(&mut self, id: u64, lane: Lane) {
		match lane {
			Lane::Escrow => self.escrow.push_back(id),
			Lane::Pass { client, stake } => {
				let w = self.pass.entry(client).or_default();
				// The latest stake read counts (a top-up or unlock changes it).
				w.stake = stake;
				w.jobs.push_back(id);
			},
		}
	}

	/// The next job to run: the oldest escrow job, else the pass job of the
	/// client smooth weighted round-robin picks.
	pub fn pop(&mut self) -> Option<u64> {
		if let Some(id) = self.escrow.pop_front() {
			return Some(id);
		}
		let min = self.pass.values().map(|w| w.stake).min()?;
		let weights: Vec<([u8; 32], i128)> = self
			.pass
			.iter()
			.map(|(c, w)| (*c, i128::from(agora_primitives::passes::round_robin_weight(w.stake, min))))
			.collect();
		let total: i128 = weights.iter().map(|(_, w)| w).sum();
		let mut best: Option<([u8; 32], i128)> = None;
		for (c, w) in &weights {
			let entry = self.pass.get_mut(c)?;
			entry.credit = entry.credit.saturating_add(*w);
			if best.is_none_or(|(_, b)| entry.credit > b) {
				best = Some((*c, entry.credit));
			}
		}
		let (client, _) = best?;
		let entry = self.pass.get_mut(&client)?;
		entry.credit = entry.credit.saturating_sub(total);
		let id = entry.jobs.pop_front();
		if entry.jobs.is_empty() {
			// A client that stops waiting leaves the round; it rejoins with no credit.
			self.pass.remove(&client);
		}
		id
	}

	/// Pass clients with jobs waiting.
	pub fn pass_clients(&self) -> usize {
		self.pass.len()
	}

	/// Jobs queued.
	pub fn queued(&self) -> usize {
		self.escrow.len().saturating_add(self.pass.values().map(|w| w.jobs.len()).sum())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn pass(c: u8, stake: u128) -> Lane {
		Lane::Pass { client: [c; 32], stake }
	}

	#[test]
	fn escrow_jobs_go_first_in_arrival_order() {
		let mut s = Schedule::default();
		s.push(1, pass(1, 100));
		s.push(2, Lane::Escrow);
		s.push(3, Lane::Escrow);
		assert_eq!((s.pop(), s.pop(), s.pop(), s.pop()), (Some(2), Some(3), Some(1), None));
		assert_eq!(s.queued(), 0);
	}

	/// Three clients with stakes 1:2:4, each with more requests waiting than
	/// will be served: over the first 70 (and 700) served, the counts follow
	/// 1:2:4 within ±10 %.
	#[test]
	fn pass_jobs_are_served_in_proportion_to_stake() {
		for served in [70usize, 700] {
			let mut s = Schedule::default();
			let mut next = 0u64;
			let stakes = [(1u8, 1_000u128), (2, 2_000), (3, 4_000)];
			let mut owner = std::collections::HashMap::new();
			for (c, stake) in stakes {
				for _ in 0..served {
					s.push(next, pass(c, stake));
					owner.insert(next, c);
					next += 1;
				}
			}
			let mut counts = [0usize; 3];
			for _ in 0..served {
				let id = s.pop().unwrap();
				counts[usize::from(owner[&id]) - 1] += 1;
			}
			let unit = served as f64 / 7.0;
			for (i, share) in [1.0, 2.0, 4.0].iter().enumerate() {
				let want = unit * share;
				let got = counts[i] as f64;
				assert!((got - want).abs() <= want * 0.10, "{served} served: {counts:?}, client {i} wanted {want:.1}");
			}
		}
	}

	#[test]
	fn weights_are_over_the_clients_waiting_and_nobody_starves() {
		let mut s = Schedule::default();
		// 1 AGR against 1,000 AGR: weight 1 against 1,000, still served.
		s.push(1, pass(1, 1));
		for id in 2..2_000 {
			s.push(id, pass(2, 1_000));
		}
		let first: Vec<u64> = (0..1_001).filter_map(|_| s.pop()).collect();
		assert!(first.contains(&1), "the small client is served within one round");
		// When the big client is alone, its weight is 1 over itself: plain FIFO.
		let mut s = Schedule::default();
		s.push(5, pass(2, 1_000));
		s.push(6, pass(2, 1_000));
		assert_eq!((s.pop(), s.pop()), (Some(5), Some(6)));
	}

	#[test]
	fn a_clients_jobs_keep_their_order() {
		let mut s = Schedule::default();
		for id in [10, 11, 12] {
			s.push(id, pass(1, 100));
		}
		s.push(20, pass(2, 100));
		let order: Vec<u64> = std::iter::from_fn(|| s.pop()).collect();
		let ones: Vec<u64> = order.iter().copied().filter(|i| *i < 20).collect();
		assert_eq!(ones, [10, 11, 12]);
		assert_eq!(order.len(), 4);
	}
}
