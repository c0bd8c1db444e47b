//! The worker's view of a payment channel, and how it is read from the chain:
//! retried, and when the chain cannot be read, the last view however old
//! (docs/protocol.md §4.2, "The worker's channel read").
//!
//! An old view is safe: a channel's terms only move the worker's way while it
//! is open (its value and expiration only grow, its signer and recipient never
//! change, and it closes only by a reclaim after its expiration, which the
//! expiry margin checks against the current head), so an old view never
//! accepts a voucher the chain would not pay.
use super::ApiError;
use agora_primitives::channels::ChannelId;
use axum::http::StatusCode;
use std::{
	collections::HashMap,
	future::Future,
	time::{Duration, Instant},
};

/// Longest a channel's state is trusted before it is read again.
pub const CHANNEL_TTL: Duration = Duration::from_secs(30);
/// How many times a channel's state is read from the chain before a failure
/// counts.
pub const CHAIN_TRIES: u32 = 3;
/// The pause between two tries: the head a read asked for may have been
/// finalized a moment before its header could be read.
pub const CHAIN_PAUSE: Duration = Duration::from_millis(250);

/// A channel as the worker checks vouchers against it.
#[derive(Clone, Debug)]
pub struct ChannelView {
	pub recipient: String,
	pub signer: [u8; 32],
	pub value: u128,
	pub expiration: u64,
	/// Each lane's (nonce, claimed) on chain.
	pub lanes: HashMap<u32, (u64, u128)>,
	pub(super) fetched: Instant,
}

impl ChannelView {
	/// Whether the channel is within `margin` blocks of its expiration at
	/// `head`: the worker takes no more of its vouchers, and claims what it
	/// holds before the chain stops paying them.
	pub fn expiring(&self, head: u64, margin: u64) -> bool {
		self.expiration <= head.saturating_add(margin)
	}

	/// Whether the view is recent enough to check a voucher against without
	/// reading the chain again.
	pub fn fresh(&self) -> bool {
		self.fetched.elapsed() < CHANNEL_TTL
	}
}

/// What a channel read came to.
#[derive(Debug)]
pub enum Read<T> {
	/// What the chain said (for a channel: `None` when it is not open).
	Fresh(T),
	/// Every try failed; the view read before.
	Stale(ChannelView),
}

/// Reads channel `id` with `read`, up to [`CHAIN_TRIES`] times `pause` apart.
/// When every try fails: the view read before (`cached`), or, for a channel
/// never read, 503 `chain_unavailable` with the last error.
pub async fn read_or_stale<T, E, Fut>(
	id: ChannelId,
	mut read: impl FnMut() -> Fut,
	cached: Option<ChannelView>,
	pause: Duration,
) -> Result<Read<T>, ApiError>
where
	E: std::fmt::Display,
	Fut: Future<Output = Result<T, E>>,
{
	let mut tries = 1;
	loop {
		match read().await {
			Ok(t) => return Ok(Read::Fresh(t)),
			Err(_) if tries < CHAIN_TRIES => {
				tries += 1;
				tokio::time::sleep(pause).await;
			},
			Err(e) => {
				tracing::warn!(channel = id, error = %e, tries, stale = cached.is_some(), "reading a channel from the chain failed");
				return cached.map(Read::Stale).ok_or_else(|| {
					ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "chain_unavailable", e.to_string())
				});
			},
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use axum::response::IntoResponse;
	use std::cell::Cell;

	fn view(value: u128) -> ChannelView {
		ChannelView {
			recipient: "bob".into(),
			signer: [7; 32],
			value,
			expiration: 100,
			lanes: HashMap::new(),
			fetched: Instant::now(),
		}
	}

	/// A chain that fails its first `fails` reads, then answers `value`;
	/// counts the reads.
	fn chain(fails: u32, value: u128, reads: &Cell<u32>) -> impl FnMut() -> std::future::Ready<Result<u128, String>> + '_ {
		move || {
			reads.set(reads.get() + 1);
			std::future::ready(if reads.get() <= fails { Err(format!("read {} failed", reads.get())) } else { Ok(value) })
		}
	}

	#[tokio::test]
	async fn a_read_that_fails_twice_is_answered_by_the_third_try() {
		let reads = Cell::new(0);
		let r = read_or_stale(1, chain(2, 500, &reads), Some(view(100)), Duration::ZERO).await;
		assert!(matches!(r, Ok(Read::Fresh(500))), "{r:?}");
		assert_eq!(reads.get(), 3, "tried until it answered");
	}

	#[tokio::test]
	async fn a_chain_that_never_answers_falls_back_to_the_last_view() {
		let reads = Cell::new(0);
		let r = read_or_stale(1, chain(u32::MAX, 500, &reads), Some(view(100)), Duration::ZERO).await;
		match r {
			Ok(Read::Stale(v)) => assert_eq!(v.value, 100, "the view read before, not a guess"),
			other => panic!("expected the stale view, got {other:?}"),
		}
		assert_eq!(reads.get(), CHAIN_TRIES, "tried CHAIN_TRIES times, no more");
	}

	#[tokio::test]
	async fn a_channel_never_read_is_refused_when_the_chain_never_answers() {
		let reads = Cell::new(0);
		let r = read_or_stale(1, chain(u32::MAX, 500, &reads), None, Duration::ZERO).await;
		let Err(e) = r else { panic!("a channel never read has no view to fall back on") };
		assert_eq!(e.into_response().status(), StatusCode::SERVICE_UNAVAILABLE);
		assert_eq!(reads.get(), CHAIN_TRIES);
	}

	#[tokio::test]
	async fn the_tries_are_spaced_by_the_pause() {
		let reads = Cell::new(0);
		let t = Instant::now();
		let r = read_or_stale(1, chain(2, 500, &reads), None, Duration::from_millis(40)).await;
		assert!(matches!(r, Ok(Read::Fresh(500))));
		assert!(t.elapsed() >= Duration::from_millis(80), "two pauses between three tries: {:?}", t.elapsed());
	}

	#[test]
	fn a_view_goes_stale_after_its_ttl_and_expires_within_the_margin() {
		let mut v = view(1);
		assert!(v.fresh());
		v.fetched = Instant::now() - CHANNEL_TTL;
		assert!(!v.fresh());
		assert!(!v.expiring(89, 10) && v.expiring(90, 10), "expiration 100, margin 10");
	}
}
