//! Claims on a schedule: every `every`, as soon as `threshold` planck of
//! served vouchers are unclaimed, or as soon as a channel with unclaimed
//! vouchers comes within the worker's margin of its expiration (from then on
//! its vouchers are refused, and the chain pays them only until the
//! expiration), the latest served voucher of every lane goes
//! on chain in `claim_batch`es of at most [`BATCH`]. Restart-safe: what is
//! claimable comes from the voucher book, and a lane's claim is recorded only
//! once final.
//!
//! A batch is all or nothing on chain, so when one fails the worker claims its
//! vouchers one by one: the good ones are paid, and one the chain will never
//! pay (its channel expired or was closed, or the chain already has a later
//! claim) is logged and set aside.
//!
//! A claim secures the vouchers: the funds stay held on the sender's account
//! until a `withdraw` or the channel's close pays them out. Every
//! [`FORGET_ROUNDS`] claim periods the worker asks the chain about each
//! channel it has nothing left to claim on: it withdraws, in one call, what it
//! is owed on those within its margin of their expiration (it takes no more of
//! their vouchers, so this is their one payout), and forgets those the chain no
//! longer has (reclaimed after expiration): their lanes and kept answers.
use super::{book::Book, Paid};
use agora_client::chain::Submitter;
use std::{sync::Arc, time::Duration};

/// Most vouchers in one `claim_batch` (the runtime's `MaxClaimBatch`).
pub const BATCH: usize = 1_000;

/// Errors after which a voucher is never payable.
const FINAL: [&str; 5] =
	["ChannelExpired", "UnknownChannel", "StaleVoucher", "NothingToClaim", "NotRecipient"];

/// Closed channels are looked for once every this many claim periods.
pub const FORGET_ROUNDS: u32 = 10;

/// When to claim.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
	pub every: Duration,
	pub threshold: u128,
}

/// Claims until the process ends.
pub async fn run(paid: Arc<Paid>, signer: Arc<Submitter>, schedule: Schedule) {
	let mut last = tokio::time::Instant::now();
	let mut last_forget = last;
	loop {
		tokio::time::sleep(Duration::from_millis(500)).await;
		if last_forget.elapsed() >= schedule.every.saturating_mul(FORGET_ROUNDS) {
			last_forget = tokio::time::Instant::now();
			let client = paid.chain.read().await.clone();
			if let Err(e) = settle_closing(&client, &signer, &paid).await {
				tracing::warn!(error = %e, "paying out or forgetting closing channels failed; retrying later");
			}
		}
		let claimable = paid.book.claimable();
		if claimable.is_empty() {
			continue;
		}
		let due = last.elapsed() >= schedule.every
			|| paid.book.unclaimed() >= schedule.threshold
			|| expiring(&paid, &claimable).await;
		if !due {
			continue;
		}
		last = tokio::time::Instant::now();
		let client = paid.chain.read().await.clone();
		if let Err(e) = claim_all(&client, &signer, &paid.book).await {
			tracing::warn!(error = %e, "claiming vouchers failed; retrying at the next round");
		}
	}
}

/// Whether a claimable voucher's channel is within the worker's margin of its
/// expiration: the worker no longer takes its vouchers, and must claim before
/// the chain stops paying them.
async fn expiring(
	paid: &Paid,
	claimable: &[agora_primitives::channels::SignedVoucher<u128>],
) -> bool {
	let head = paid.head.load(std::sync::atomic::Ordering::Relaxed);
	let channels = paid.channels.read().await;
	claimable
		.iter()
		.any(|v| channels.get(&v.voucher.channel_id).is_some_and(|c| c.expiring(head, paid.margin)))
}

/// Of the channels the book has nothing left to claim on: withdraws what the
/// worker is owed on those within its margin of their expiration, and forgets
/// those the chain (at its finalized head) no longer has; returns (channels
/// paid out, channels forgotten).
pub async fn settle_closing(
	client: &agora_client::chain::Client,
	signer: &Submitter,
	paid: &Paid,
) -> anyhow::Result<(usize, usize)> {
	let head = paid.head.load(std::sync::atomic::Ordering::Relaxed);
	let mut gone = 0;
	let mut owed = vec![];
	for id in paid.book.settled_channels() {
		match agora_client::channel::channel(client, id).await? {
			Some(c) => {
				if c.owed() > 0 && u64::from(c.expiration) <= head.saturating_add(paid.margin) {
					owed.push(id);
				}
			},
			None => {
				let lanes = paid.book.forget_channel(id).await?;
				paid.channels.write().await.remove(&id);
				gone += 1;
				tracing::info!(channel = id, lanes, "forgot channel {id}: closed on chain, nothing left to claim");
			},
		}
	}
	let mut withdrawn = 0;
	for chunk in owed.chunks(BATCH) {
		let (out, _fee) = agora_client::channel::withdraw(client, signer, chunk.to_vec()).await?;
		for (id, amount) in &out {
			tracing::info!(channel = id, planck = amount, "withdrew {amount} planck from channel {id}: closing, claimed, paid out");
		}
		withdrawn += out.len();
	}
	Ok((withdrawn, gone))
}

/// Claims every claimable voucher now; returns how many were paid.
pub async fn claim_all(
	client: &agora_client::chain::Client,
	signer: &Submitter,
	book: &Book,
) -> anyhow::Result<usize> {
	let mut paid = 0;
	for chunk in book.claimable().chunks(BATCH) {
		match agora_client::channel::claim(client, signer, chunk.to_vec()).await {
			Ok((claimed, _fee)) => {
				book.claimed(chunk).await?;
				paid += claimed.len();
				tracing::info!(vouchers = claimed.len(), "claimed");
			},
			Err(e) => {
				tracing::warn!(error = %e, vouchers = chunk.len(), "a claim batch was refused; claiming one by one");
				for v in chunk {
					match agora_client::channel::claim(client, signer, vec![*v]).await {
						Ok(_) => {
							book.claimed(std::slice::from_ref(v)).await?;
							paid += 1;
						},
						Err(e) if FINAL.iter().any(|f| e.to_string().contains(f)) => {
							tracing::error!(channel = v.voucher.channel_id, lane = v.voucher.lane, nonce = v.voucher.nonce, error = %e, "voucher will never be paid; set aside");
							book.claimed(std::slice::from_ref(v)).await?;
						},
						Err(e) => return Err(e),
					}
				}
			},
		}
	}
	Ok(paid)
}
