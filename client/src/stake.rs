//! Staking from the client (`agora stake …`): bond, set session keys, validate
//! or nominate, chill, claim era rewards, and the current eras and validators.
use crate::chain::{self, runtime, Client, Keypair};
use codec::Decode;
use runtime::runtime_types::{
	agora_runtime::opaque::SessionKeys,
	pallet_staking::{RewardDestination, ValidatorPrefs},
	sp_arithmetic::per_things::Perbill,
};
use subxt::utils::{AccountId32, MultiAddress};

/// Bonds `amount` planck; rewards are re-staked.
pub async fn bond(client: &Client, signer: &Keypair, amount: u128) -> anyhow::Result<()> {
	let tx = runtime::tx().staking().bond(amount, RewardDestination::Staked);
	chain::submit_final(client, &tx, signer, "staking.bond").await?;
	Ok(())
}

/// Registers session keys (`author_rotateKeysWithOwner`'s `keys` and `proof`).
pub async fn set_keys(
	client: &Client,
	signer: &Keypair,
	keys: &[u8],
	proof: Vec<u8>,
) -> anyhow::Result<()> {
	let keys = SessionKeys::decode(&mut &keys[..]).map_err(|e| {
		anyhow::anyhow!("not this chain's session keys (babe, grandpa, agora): {e}")
	})?;
	let tx = runtime::tx().session().set_keys(keys, proof);
	chain::submit_final(client, &tx, signer, "session.set_keys").await?;
	Ok(())
}

/// Declares the intent to validate, with `commission_pct` percent commission.
pub async fn validate(
	client: &Client,
	signer: &Keypair,
	commission_pct: u32,
) -> anyhow::Result<()> {
	anyhow::ensure!(commission_pct <= 100, "commission is a percentage (0–100)");
	let prefs = ValidatorPrefs { commission: Perbill(commission_pct * 10_000_000), blocked: false };
	let tx = runtime::tx().staking().validate(prefs);
	chain::submit_final(client, &tx, signer, "staking.validate").await?;
	Ok(())
}

/// Nominates validators (SS58 addresses).
pub async fn nominate(
	client: &Client,
	signer: &Keypair,
	targets: &[AccountId32],
) -> anyhow::Result<()> {
	let targets = targets.iter().map(|a| MultiAddress::Id(*a)).collect();
	chain::submit_final(
		client,
		&runtime::tx().staking().nominate(targets),
		signer,
		"staking.nominate",
	)
	.await?;
	Ok(())
}

/// Stops validating or nominating from the next era.
pub async fn chill(client: &Client, signer: &Keypair) -> anyhow::Result<()> {
	chain::submit_final(client, &runtime::tx().staking().chill(), signer, "staking.chill").await?;
	Ok(())
}

/// What one payout paid.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Payout {
	pub era: u32,
	pub validator: String,
	/// (stash, amount in planck) per `Rewarded` event.
	pub rewards: Vec<(String, String)>,
}

/// Pays out `validator`'s stakers for `era` (anyone may call it).
pub async fn payout(
	client: &Client,
	signer: &Keypair,
	validator: AccountId32,
	era: u32,
) -> anyhow::Result<Payout> {
	let tx = runtime::tx().staking().payout_stakers(validator, era);
	let events = chain::submit_final(client, &tx, signer, "staking.payout_stakers").await?;
	let mut rewards = vec![];
	for e in events.find::<runtime::staking::events::Rewarded>() {
		let e = e?;
		rewards.push((e.stash.to_string(), e.amount.to_string()));
	}
	Ok(Payout { era, validator: validator.to_string(), rewards })
}

/// The staking state clients show.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Status {
	pub block: u64,
	pub session: u32,
	pub active_era: Option<u32>,
	pub current_era: Option<u32>,
	/// The session's validators (elected by staking).
	pub session_validators: Vec<String>,
	/// Accounts that declared to validate (candidates for the next election).
	pub candidates: Vec<String>,
	pub nominators: Vec<String>,
	/// Reward points per validator in the active era.
	pub points: Vec<(String, u32)>,
	/// Reward points per validator in the last finished era (its payout is
	/// shared by these).
	pub last_era_points: Vec<(String, u32)>,
	/// The era payout reserved for the last finished era, if known (planck).
	pub last_era_reward: Option<String>,
}

/// The staking state now.
pub async fn status(client: &Client) -> anyhow::Result<Status> {
	let at = client.at_current_block().await?;
	let st = at.storage();
	let session = st.entry(runtime::storage().session().current_index())?.try_fetch(()).await?;
	let session = session.map(|v| v.decode()).transpose()?.unwrap_or(0);
	let validators = st.entry(runtime::storage().session().validators())?.try_fetch(()).await?;
	let validators: Vec<AccountId32> =
		validators.map(|v| v.decode()).transpose()?.unwrap_or_default();
	let active = st.entry(runtime::storage().staking().active_era())?.try_fetch(()).await?;
	let active_era = active.map(|v| v.decode()).transpose()?.map(|a| a.index);
	let current = st.entry(runtime::storage().staking().current_era())?.try_fetch(()).await?;
	let current_era = current.map(|v| v.decode()).transpose()?;
	let mut candidates = vec![];
	let mut it = st.entry(runtime::storage().staking().validators())?.iter(()).await?;
	while let Some(kv) = it.next().await {
		let kv = kv?;
		let (who,) = kv.key()?.decode()?;
		candidates.push(who.to_string());
	}
	let mut nominators = vec![];
	let mut it = st.entry(runtime::storage().staking().nominators())?.iter(()).await?;
	while let Some(kv) = it.next().await {
		let kv = kv?;
		let (who,) = kv.key()?.decode()?;
		nominators.push(who.to_string());
	}
	let mut points = vec![];
	let mut last_era_points = vec![];
	let mut last_era_reward = None;
	if let Some(era) = active_era {
		let p = st
			.entry(runtime::storage().staking().eras_reward_points())?
			.try_fetch((era,))
			.await?;
		if let Some(p) = p.map(|v| v.decode()).transpose()? {
			points = p.individual.into_iter().map(|(a, n)| (a.to_string(), n)).collect();
		}
		if era > 0 {
			let p = st
				.entry(runtime::storage().staking().eras_reward_points())?
				.try_fetch((era - 1,))
				.await?;
			if let Some(p) = p.map(|v| v.decode()).transpose()? {
				last_era_points =
					p.individual.into_iter().map(|(a, n)| (a.to_string(), n)).collect();
			}
			let r = st
				.entry(runtime::storage().staking().eras_validator_reward())?
				.try_fetch((era - 1,))
				.await?;
			last_era_reward = r.map(|v| v.decode()).transpose()?.map(|v: u128| v.to_string());
		}
	}
	Ok(Status {
		block: at.block_number(),
		session,
		active_era,
		current_era,
		session_validators: validators.iter().map(|a| a.to_string()).collect(),
		candidates,
		nominators,
		points,
		last_era_points,
		last_era_reward,
	})
}
