//! Governance from the client (`agora gov …`): the marketplace's parameters
//! (runtime API `AgoraParamsApi`), `market_params` referenda that set one, the
//! decision deposit, conviction votes and a referendum's progress through to
//! its enactment.
use crate::chain::{self, runtime, Client, Keypair};
use agora_primitives::params::{ParamInfo, ParamUnit};
use codec::{Decode, Encode};
use runtime::runtime_types::{
	agora_runtime::{
		configs::{
			governance::origins::pallet_custom_origins::Origin as CustomOrigin,
			params::{dynamic_params::market::Parameters, pallet_market_params},
		},
		OriginCaller, RuntimeCall,
	},
	frame_support::traits::{preimages::Bounded, schedule::DispatchTime},
	pallet_conviction_voting::vote::{AccountVote, Vote},
	pallet_referenda::types::ReferendumInfo,
};

/// Blocks between approval and enactment asked for by `propose-param` (the
/// track's minimum enactment period applies if it is longer).
pub const ENACT_AFTER: u32 = 1;

/// Every governed parameter: name, value in force, default and bounds.
pub async fn params(client: &Client) -> anyhow::Result<Vec<ParamInfo>> {
	let at = client.at_current_block().await?;
	let raw: Vec<runtime::runtime_types::agora_primitives::params::ParamInfo> = at
		.runtime_apis()
		.call(runtime::runtime_apis().agora_params_api().params())
		.await?;
	raw.iter().map(chain::recode).collect()
}

/// Formats a parameter value in its unit.
pub fn fmt_value(v: u128, unit: ParamUnit) -> String {
	match unit {
		ParamUnit::Blocks => format!("{v} blocks ({})", fmt_secs(v.saturating_mul(3))),
		ParamUnit::Ppm => format!("{v} ppm ({}%)", v as f64 / 10_000.0),
		ParamUnit::Perbill => format!("{}%", v as f64 / 10_000_000.0),
		ParamUnit::Planck => chain::fmt_agr(v),
		ParamUnit::Bytes => format!("{v} bytes"),
		ParamUnit::Count => v.to_string(),
		ParamUnit::Milli => format!("{}", v as f64 / 1000.0),
	}
}

fn fmt_secs(s: u128) -> String {
	match s {
		s if s >= 86_400 && s % 86_400 == 0 => format!("{} d", s / 86_400),
		s if s >= 3_600 && s % 3_600 == 0 => format!("{} h", s / 3_600),
		s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
		s => format!("{s} s"),
	}
}

/// Parses a value typed by a user: a plain number in the parameter's unit,
/// `N%` for shares (ppm or Perbill), or an amount (`10`, `0.5`, `…p`) in AGR.
pub fn parse_value(s: &str, unit: ParamUnit) -> anyhow::Result<u128> {
	let bad = || anyhow::anyhow!("`{s}` is not a value of this parameter ({unit:?})");
	if let Some(pct) = s.strip_suffix('%') {
		let p: f64 = pct.parse().map_err(|_| bad())?;
		anyhow::ensure!(p.is_finite() && p >= 0.0, bad());
		return match unit {
			ParamUnit::Ppm => Ok((p * 10_000.0).round() as u128),
			ParamUnit::Perbill => Ok((p * 10_000_000.0).round() as u128),
			_ => Err(bad()),
		};
	}
	match unit {
		ParamUnit::Planck => chain::parse_agr(s),
		_ => s.replace('_', "").parse().map_err(|_| bad()),
	}
}

/// The `market_params` call setting parameter number `index` (its position in
/// [`params`], which is its codec index) to `value`.
pub fn param_call(index: usize, info: &ParamInfo, value: u128) -> anyhow::Result<Parameters> {
	let index = u8::try_from(index)?;
	// market::Parameters::<Name>(<Name>, Some(value)): the unit-struct key encodes
	// to nothing; the value is a u128 balance or a u32.
	let mut bytes = vec![index, 1];
	match info.unit {
		ParamUnit::Planck => value.encode_to(&mut bytes),
		_ => u32::try_from(value)
			.map_err(|_| anyhow::anyhow!("{value} does not fit this parameter"))?
			.encode_to(&mut bytes),
	}
	Parameters::decode(&mut &bytes[..]).map_err(|e| anyhow::anyhow!("encoding the parameter: {e}"))
}

/// What `propose-param` submitted.
pub struct Proposal {
	pub index: u32,
	/// The encoded call (inline proposals) or its blake2_256 hash (by preimage).
	pub call: Vec<u8>,
	pub deposit_placed: bool,
}

/// The parameter called `name` (case-insensitive) and its index.
pub fn find<'a>(all: &'a [ParamInfo], name: &str) -> anyhow::Result<(usize, &'a ParamInfo)> {
	all.iter()
		.enumerate()
		.find(|(_, p)| p.name.eq_ignore_ascii_case(name.as_bytes()))
		.ok_or_else(|| {
			let names: Vec<String> =
				all.iter().map(|p| String::from_utf8_lossy(&p.name).into_owned()).collect();
			anyhow::anyhow!("no parameter `{name}`; the parameters are {}", names.join(", "))
		})
}

/// Submits a `market_params` referendum that sets parameter `index` to
/// `value` (the call is small enough to travel inline: no preimage needed), and
/// with `deposit` places its decision deposit too. The chain checks the bounds
/// when the referendum is enacted; callers check them first.
pub async fn propose(
	client: &Client,
	signer: &Keypair,
	index: usize,
	info: &ParamInfo,
	value: u128,
	deposit: bool,
) -> anyhow::Result<Proposal> {
	let param = param_call(index, info, value)?;
	let call = RuntimeCall::MarketParams(pallet_market_params::Call::set { param }).encode();
	let inline = runtime::runtime_types::bounded_collections::bounded_vec::BoundedVec(call.clone());
	let submit = runtime::tx().referenda().submit(
		OriginCaller::Origins(CustomOrigin::MarketParams),
		Bounded::Inline(inline),
		DispatchTime::After(ENACT_AFTER),
	);
	let index = submit_referendum(client, signer, submit, deposit).await?;
	Ok(Proposal { index, call, deposit_placed: deposit })
}

/// Submits a `root` referendum that upgrades the runtime to `code` (a wasm
/// blob, compressed or not): notes the `system.set_code` call's preimage, then
/// submits it by hash; with `deposit` places the decision deposit too.
pub async fn propose_upgrade(
	client: &Client,
	signer: &Keypair,
	code: Vec<u8>,
	deposit: bool,
) -> anyhow::Result<Proposal> {
	use runtime::runtime_types::frame_system::pallet::Call as SystemCall;
	let call = RuntimeCall::System(SystemCall::set_code { code }).encode();
	let hash = sp_crypto_hashing::blake2_256(&call);
	let len = u32::try_from(call.len())?;
	let note = runtime::tx().preimage().note_preimage(call.clone());
	chain::submit_final(client, &note, signer, "preimage.note_preimage").await?;
	let submit = runtime::tx().referenda().submit(
		OriginCaller::system(runtime::runtime_types::frame_support::dispatch::RawOrigin::Root),
		Bounded::Lookup { hash: subxt::utils::H256(hash), len },
		DispatchTime::After(ENACT_AFTER),
	);
	let index = submit_referendum(client, signer, submit, deposit).await?;
	Ok(Proposal { index, call: hash.to_vec(), deposit_placed: deposit })
}

/// Submits a built `referenda.submit` and, with `deposit`, places the new
/// referendum's decision deposit; returns its index.
async fn submit_referendum<C: subxt::transactions::Payload>(
	client: &Client,
	signer: &Keypair,
	submit: C,
	deposit: bool,
) -> anyhow::Result<u32> {
	let events = chain::submit_final(client, &submit, signer, "referenda.submit").await?;
	let submitted = events
		.find_first::<runtime::referenda::events::Submitted>()
		.transpose()?
		.ok_or_else(|| anyhow::anyhow!("referenda.submit: no Submitted event"))?;
	if deposit {
		place_deposit(client, signer, submitted.index).await?;
	}
	Ok(submitted.index)
}

/// Places a referendum's decision deposit.
pub async fn place_deposit(client: &Client, signer: &Keypair, index: u32) -> anyhow::Result<()> {
	let tx = runtime::tx().referenda().place_decision_deposit(index);
	chain::submit_final(client, &tx, signer, "referenda.place_decision_deposit").await?;
	Ok(())
}

/// Votes on a referendum: `aye` or not, conviction 0 (0.1× votes, no lock) to
/// 6 (6× votes, 32 lock periods), with `balance` planck.
pub async fn vote(
	client: &Client,
	signer: &Keypair,
	index: u32,
	aye: bool,
	conviction: u8,
	balance: u128,
) -> anyhow::Result<()> {
	anyhow::ensure!(conviction <= 6, "conviction is 0 (0.1×, no lock) to 6 (6×)");
	let v = Vote(if aye { 0x80 } else { 0 } | conviction);
	let tx = runtime::tx()
		.conviction_voting()
		.vote(index, AccountVote::Standard { vote: v, balance });
	chain::submit_final(client, &tx, signer, "conviction_voting.vote").await?;
	Ok(())
}

/// A referendum's state as the client shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RefStatus {
	pub index: u32,
	/// `Preparing`, `Deciding`, `Confirming`, `Approved`, `Rejected`,
	/// `Cancelled`, `TimedOut` or `Killed`.
	pub state: String,
	pub track: Option<u16>,
	pub ayes: Option<String>,
	pub nays: Option<String>,
	pub support: Option<String>,
	pub decision_deposit: Option<bool>,
	/// The block a finished referendum ended in.
	pub ended: Option<u32>,
}

/// The state of referendum `index` (`None`: no such referendum).
pub async fn status(client: &Client, index: u32) -> anyhow::Result<Option<RefStatus>> {
	let at = client.at_current_block().await?;
	let entry = at.storage().entry(runtime::storage().referenda().referendum_info_for())?;
	let Some(info) = entry.try_fetch((index,)).await? else {
		return Ok(None);
	};
	let info = info.decode()?;
	let mut s = RefStatus {
		index,
		state: String::new(),
		track: None,
		ayes: None,
		nays: None,
		support: None,
		decision_deposit: None,
		ended: None,
	};
	match info {
		ReferendumInfo::Ongoing(o) => {
			s.state = match &o.deciding {
				None => "Preparing".into(),
				Some(d) if d.confirming.is_some() => "Confirming".into(),
				Some(_) => "Deciding".into(),
			};
			s.track = Some(o.track);
			s.ayes = Some(o.tally.ayes.to_string());
			s.nays = Some(o.tally.nays.to_string());
			s.support = Some(o.tally.support.to_string());
			s.decision_deposit = Some(o.decision_deposit.is_some());
		},
		ReferendumInfo::Approved(b, ..) => (s.state, s.ended) = ("Approved".into(), Some(b)),
		ReferendumInfo::Rejected(b, ..) => (s.state, s.ended) = ("Rejected".into(), Some(b)),
		ReferendumInfo::Cancelled(b, ..) => (s.state, s.ended) = ("Cancelled".into(), Some(b)),
		ReferendumInfo::TimedOut(b, ..) => (s.state, s.ended) = ("TimedOut".into(), Some(b)),
		ReferendumInfo::Killed(b) => (s.state, s.ended) = ("Killed".into(), Some(b)),
	}
	Ok(Some(s))
}

/// How many referenda were ever submitted.
pub async fn count(client: &Client) -> anyhow::Result<u32> {
	let at = client.at_current_block().await?;
	let entry = at.storage().entry(runtime::storage().referenda().referendum_count())?;
	Ok(entry.try_fetch(()).await?.map(|v| v.decode()).transpose()?.unwrap_or(0))
}

/// The outcome of an approved referendum's call, from the scheduler's
/// `Dispatched` event: `Ok(())`, or the dispatch error as text.
pub type Enactment = Result<(), String>;

/// The scheduler's outcome of an approved referendum's enactment, searched in
/// blocks `from..=to` (`None`: not dispatched in them).
async fn enactment_in(
	client: &Client,
	task: [u8; 32],
	from: u32,
	to: u32,
) -> anyhow::Result<Option<Enactment>> {
	for n in from..=to {
		let at = client.at_block(n).await?;
		for ev in at.events().fetch().await?.iter() {
			let ev = ev?;
			if let Some(d) =
				ev.decode_fields_as::<runtime::scheduler::events::Dispatched>().transpose()?
			{
				if d.id == Some(task) {
					return Ok(Some(match d.result {
						Ok(()) => Ok(()),
						Err(e) => Err(describe_error(client, &e).await),
					}));
				}
			}
		}
	}
	Ok(None)
}

/// Waits (over finalized blocks) until referendum `index` is no longer ongoing
/// and, if approved, until the scheduler has dispatched its call; returns the
/// final state and the enactment's outcome. `on_change` sees each new state.
/// A referendum that ended earlier is looked up, not waited for.
pub async fn wait(
	client: &Client,
	index: u32,
	mut on_change: impl FnMut(&RefStatus),
) -> anyhow::Result<(RefStatus, Option<Enactment>)> {
	// pallet-referenda names the enactment task
	// blake2_256(("assembly", "enactment", index)), the first a raw [u8; 8].
	let task: [u8; 32] =
		sp_crypto_hashing::blake2_256(&(*b"assembly", "enactment", index).encode());
	let mut blocks = client.stream_blocks().await?;
	let mut last = String::new();
	// (the approved status, the next block to search for the dispatch)
	let mut approved: Option<(RefStatus, u32)> = None;
	loop {
		let now = u32::try_from(client.at_current_block().await?.block_number())?;
		if let Some((done, from)) = &mut approved {
			if let Some(outcome) = enactment_in(client, task, *from, now).await? {
				return Ok((done.clone(), Some(outcome)));
			}
			*from = now.saturating_add(1);
		} else {
			let Some(s) = status(client, index).await? else {
				anyhow::bail!("no referendum {index}")
			};
			if s.state != last {
				on_change(&s);
				last = s.state.clone();
			}
			match s.state.as_str() {
				"Approved" => {
					let from = s.ended.unwrap_or(now);
					approved = Some((s, from));
					continue;
				},
				"Rejected" | "Cancelled" | "TimedOut" | "Killed" => return Ok((s, None)),
				_ => {},
			}
		}
		let Some(b) = blocks.next().await else { anyhow::bail!("the node's block stream ended") };
		b?;
	}
}

/// A dispatch error as `Pallet.Error: docs` where it is a module error.
async fn describe_error(
	client: &Client,
	e: &runtime::runtime_types::sp_runtime::DispatchError,
) -> String {
	match client.at_current_block().await {
		Ok(at) => chain::error_text(at.metadata_ref(), e),
		Err(_) => format!("{e:?}"),
	}
}
