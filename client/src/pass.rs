//! Service passes from the client (`agora pass …`): an epoch's payout as the
//! chain recorded it, so a provider can check what it was paid against the
//! formula (docs/protocol.md §4.3).
use crate::chain::{runtime, Client};

/// One provider's line of an epoch's payout.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProviderReward {
	pub provider: String,
	pub jobs: u32,
	pub contribution: u64,
	/// Planck, as a decimal string.
	pub reward: String,
}

/// An epoch's payout: `PayoutStarted`, every `ProviderRewarded` and
/// `EpochPaid`, with the blocks they came in and the issuance before.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EpochPayout {
	pub epoch: u32,
	/// The block the payout started in (its `on_initialize`).
	pub started_at: u64,
	pub finished_at: u64,
	/// Total issuance at the end of the block before `started_at` (what `R` is
	/// computed from), planck.
	pub issuance_before: String,
	/// `R` after the cap, and `ΣC`.
	pub reward: String,
	pub total: u64,
	pub providers: Vec<ProviderReward>,
	pub to_providers: String,
	pub to_treasury: String,
	/// `Balances.Minted` for the rewarded accounts and the treasury in those
	/// blocks, summed: the issuance the payout added.
	pub minted: String,
}

/// Blocks per pass epoch (fixed at genesis).
pub async fn epoch_length(client: &Client) -> anyhow::Result<u64> {
	let at = client.at_current_block().await?;
	let v = at.storage().entry(runtime::storage().passes().epoch_length())?.try_fetch(()).await?;
	Ok(u64::from(v.map(|v| v.decode()).transpose()?.unwrap_or(0)))
}

/// Finds epoch `epoch`'s payout in the finalized blocks from the epoch's end,
/// looking `scan` blocks further (`None`: not started or not finished in them).
pub async fn epoch_payout(client: &Client, epoch: u32, scan: u64) -> anyhow::Result<Option<EpochPayout>> {
	let len = epoch_length(client).await?;
	anyhow::ensure!(len > 0, "the chain has no pass epochs");
	let from = (u64::from(epoch) + 1) * len;
	let head = client.at_current_block().await?.block_number();
	let mut out: Option<EpochPayout> = None;
	let mut minted = 0u128;
	let mut mints: Vec<(subxt::utils::AccountId32, u128)> = vec![];
	for n in from..=(from + scan).min(head) {
		let at = client.at_block(n).await?;
		for ev in at.events().fetch().await?.iter() {
			let ev = ev?;
			if let Some(s) = ev.decode_fields_as::<runtime::passes::events::PayoutStarted>().transpose()? {
				if s.epoch == epoch {
					let parent = client.at_block(n.saturating_sub(1)).await?;
					let issuance = parent
						.storage()
						.entry(runtime::storage().balances().total_issuance())?
						.try_fetch(())
						.await?
						.map(|v| v.decode())
						.transpose()?
						.unwrap_or(0);
					out = Some(EpochPayout {
						epoch,
						started_at: n,
						finished_at: 0,
						issuance_before: issuance.to_string(),
						reward: s.reward.to_string(),
						total: s.total,
						providers: vec![],
						to_providers: "0".into(),
						to_treasury: "0".into(),
						minted: "0".into(),
					});
				}
			}
			let Some(p) = out.as_mut() else { continue };
			if let Some(m) = ev.decode_fields_as::<runtime::balances::events::Minted>().transpose()? {
				mints.push((m.who, m.amount));
			}
			if let Some(r) = ev.decode_fields_as::<runtime::passes::events::ProviderRewarded>().transpose()? {
				if r.epoch == epoch {
					if let Some(i) = mints.iter().position(|(w, a)| *w == r.provider && *a == r.reward) {
						minted += mints.swap_remove(i).1;
					}
					p.providers.push(ProviderReward {
						provider: r.provider.to_string(),
						jobs: r.jobs,
						contribution: r.contribution,
						reward: r.reward.to_string(),
					});
				}
			}
			if let Some(e) = ev.decode_fields_as::<runtime::passes::events::EpochPaid>().transpose()? {
				if e.epoch == epoch {
					if e.to_treasury > 0 {
						if let Some(i) = mints.iter().position(|(_, a)| *a == e.to_treasury) {
							minted += mints.swap_remove(i).1;
						}
					}
					p.finished_at = n;
					p.to_providers = e.to_providers.to_string();
					p.to_treasury = e.to_treasury.to_string();
					p.minted = minted.to_string();
					return Ok(out);
				}
			}
		}
	}
	Ok(None)
}
