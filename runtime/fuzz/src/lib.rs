//! The runtime fuzzer (docs/reliability.md), in the style of srlabs'
//! substrate-runtime-fuzzer, over the real runtime natively (this crate links
//! `agora-runtime` with `try-runtime`, so changing the fuzzer rebuilds neither
//! the runtime nor the node): seeded random
//! sequences of calls to every Agora pallet plus balances, staking, referenda
//! and the rest (`calls`), from random origins, across real blocks
//! (`chain`: BABE pre-digests with real VRFs, every `on_initialize` and
//! `on_finalize`, epoch and session changes), starting from the development
//! and the local-testnet genesis. After every block, every invariant
//! (`chain::check_invariants`); after every call, that it weighed no more than
//! it declared.
//!
//! A failure names its seed and block (rerun one seed with
//! `AGORA_FUZZ_TRACE=1` to print every call and its outcome); `tests/fuzz.rs` keeps each seed found
//! as a regression test. `scripts/fuzz.sh` runs it for longer
//! (`AGORA_FUZZ_SECS`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

pub mod calls;
pub mod chain;

use agora_runtime::*;
use std::collections::BTreeMap;
use frame_support::{
	dispatch::GetDispatchInfo,
	traits::UnfilteredDispatchable,
};
use sp_runtime::transaction_validity::TransactionSource;

/// Seeded bytes (SplitMix64): a seed reproduces a whole run.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
	pub fn new(seed: u64) -> Self {
		Self(seed ^ 0x6167_6f72_615f_667a)
	}

	pub fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
		z ^ (z >> 31)
	}

	/// Uniform in `0..n` (`n` > 0).
	pub fn below(&mut self, n: u64) -> u64 {
		self.next_u64() % n.max(1)
	}

	pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
		&items[self.below(items.len() as u64) as usize]
	}

	pub fn array(&mut self) -> [u8; 32] {
		let mut a = [0u8; 32];
		for chunk in a.chunks_mut(8) {
			chunk.copy_from_slice(&self.next_u64().to_le_bytes());
		}
		a
	}

	pub fn bytes(&mut self, n: usize) -> Vec<u8> {
		(0..n).map(|_| self.next_u64() as u8).collect()
	}
}

/// What a run did: calls by kind and outcome, errors and events by name.
#[derive(Default, Clone)]
pub struct Stats {
	pub runs: u32,
	pub blocks: u32,
	pub calls: u32,
	/// Calls refused before dispatch: declared heavier than an extrinsic may
	/// be, or a vote the pool would not admit.
	pub not_admitted: u32,
	/// Blocks whose author was disabled while the block ran (an offence
	/// reported in it), so that `pallet-babe` refused the block; another
	/// validator authored it at the next slot, as on a real network.
	pub refused_blocks: u32,
	pub by_label: BTreeMap<&'static str, (u32, u32)>,
	pub errors: BTreeMap<String, u32>,
	pub events: BTreeMap<String, u32>,
}

impl Stats {
	/// How many times an event (`Pallet.Variant`) was emitted.
	pub fn event(&self, name: &str) -> u32 {
		self.events.get(name).copied().unwrap_or(0)
	}

	pub fn report(&self) -> String {
		let ok: u32 = self.by_label.values().map(|(o, _)| o).sum();
		let mut out = format!(
			"{} runs, {} blocks ({} re-authored), {} calls ({} dispatched ok, {} refused by the runtime, {} not admitted)\n",
			self.runs,
			self.blocks,
			self.refused_blocks,
			self.calls,
			ok,
			self.calls - ok - self.not_admitted,
			self.not_admitted
		);
		for (label, (o, e)) in &self.by_label {
			out += &format!("  {label:<32} ok {o:>7}  refused {e:>7}\n");
		}
		let mut top: Vec<_> = self.errors.iter().collect();
		top.sort_by(|a, b| b.1.cmp(a.1));
		out += "  most frequent refusals:\n";
		for (name, n) in top.into_iter().take(12) {
			out += &format!("    {n:>7}  {name}\n");
		}
		out += "  events:\n";
		for (name, n) in &self.events {
			out += &format!("    {n:>7}  {name}\n");
		}
		out
	}
}

/// `Pallet(Variant` of an event's debug form.
fn event_name(e: &RuntimeEvent) -> String {
	let s = format!("{e:?}");
	let mut parts = s.splitn(3, ['(', ' ', '{']);
	let pallet = parts.next().unwrap_or_default();
	let variant = parts.next().unwrap_or_default().trim_start_matches("Event::");
	format!("{pallet}.{variant}")
}

/// Dispatches one drawn call as a block builder would: refused when it
/// declares more weight than an extrinsic may have, a vote only when
/// `validate_unsigned` admits it; then checks it weighed no more than declared.
#[allow(deprecated)] // ValidateUnsigned: see pallet-verification's note
fn apply(drawn: calls::Drawn, stats: &mut Stats) {
	use frame_support::unsigned::ValidateUnsigned;
	stats.calls += 1;
	let info = drawn.call.get_dispatch_info();
	let limits = <Runtime as frame_system::Config>::BlockWeights::get();
	let max = limits.get(info.class).max_extrinsic.unwrap_or(limits.max_block);
	if !info.call_weight.all_lte(max) {
		stats.not_admitted += 1;
		return;
	}
	let origin = match drawn.origin {
		calls::Origin::Signed(who) => RuntimeOrigin::signed(who),
		calls::Origin::Root => RuntimeOrigin::root(),
		calls::Origin::Unsigned => {
			let RuntimeCall::Verification(ref inner) = drawn.call else { unreachable!("only votes are unsigned") };
			if Verification::validate_unsigned(TransactionSource::External, inner).is_err() {
				stats.not_admitted += 1;
				return;
			}
			RuntimeOrigin::none()
		},
	};
	let label = match drawn.label {
		"raw" => raw_label(&drawn.call),
		l => l,
	};
	let entry = stats.by_label.entry(label).or_default();
	let who = format!("{:?}", origin.caller);
	let result = drawn.call.clone().dispatch_bypass_filter(origin);
	if std::env::var_os("AGORA_FUZZ_TRACE").is_some() {
		let r = result.as_ref().map(|_| ()).map_err(|e| e.error);
		eprintln!("#{} {who} {:?} -> {r:?}", System::block_number(), drawn.call);
	}
	match result {
		Ok(post) => {
			entry.0 += 1;
			if let Some(actual) = post.actual_weight {
				assert!(
					actual.all_lte(info.call_weight),
					"{label} weighed {actual:?}, more than the {:?} it declared: {:?}",
					info.call_weight,
					drawn.call
				);
			}
		},
		Err(e) => {
			entry.1 += 1;
			let name = match e.error {
				sp_runtime::DispatchError::Module(m) => format!("{}::{}", label.split('.').next().unwrap_or(""), m.message.unwrap_or("?")),
				other => format!("{other:?}"),
			};
			*stats.errors.entry(name).or_default() += 1;
		},
	}
}

/// The pallet of a raw-decoded call, as a static label.
fn raw_label(call: &RuntimeCall) -> &'static str {
	match call {
		RuntimeCall::Balances(_) => "raw balances",
		RuntimeCall::Staking(_) => "raw staking",
		RuntimeCall::Slashing(_) => "raw slashing",
		RuntimeCall::Models(_) => "raw models",
		RuntimeCall::Jobs(_) => "raw jobs",
		RuntimeCall::Preimage(_) => "raw preimage",
		RuntimeCall::ConvictionVoting(_) => "raw conviction_voting",
		RuntimeCall::Referenda(_) => "raw referenda",
		RuntimeCall::Treasury(_) => "raw treasury",
		RuntimeCall::Verification(_) => "raw verification",
		_ => "raw other",
	}
}

/// What `pallet-babe` panics with when a block's author was disabled in it.
const DISABLED_AUTHOR: &str = "is disabled and should not be attempting to author blocks";

/// Keeps the panic hook from printing the refused blocks `run` expects and
/// handles; every other panic prints as before.
fn quiet_refused_blocks() {
	static ONCE: std::sync::Once = std::sync::Once::new();
	ONCE.call_once(|| {
		let default = std::panic::take_hook();
		std::panic::set_hook(Box::new(move |info| {
			let message = info
				.payload()
				.downcast_ref::<String>()
				.map(String::as_str)
				.or_else(|| info.payload().downcast_ref::<&str>().copied())
				.unwrap_or_default();
			if !message.contains(DISABLED_AUTHOR) {
				default(info)
			}
		}));
	});
}

/// One run: `blocks` blocks of up to `calls_per_block` calls from genesis
/// `preset`, invariants after each block. Panics, naming the seed and block,
/// on the first broken invariant or runtime panic.
///
/// One panic is a node's ordinary life: a block whose author is disabled while
/// the block runs (an offence reported in it) is refused by `pallet-babe`'s
/// `on_finalize`, and another validator authors the next slot. The run does
/// the same: the block's state is rolled back and the same calls replayed
/// under the next slot's author.
pub fn run(preset: &str, seed: u64, blocks: u32, calls_per_block: u32, stats: &mut Stats) {
	quiet_refused_blocks();
	let mut rng = Rng::new(seed);
	let storage = genesis_config_presets::preset_storage(preset).expect("a preset that builds");
	let mut ext = sp_io::TestExternalities::from(storage);
	ext.execute_with(calls::note_genesis);
	let mut chain = chain::Chain::default();
	for _ in 0..blocks {
		ext.commit_all().expect("the overlay commits");
		let (backend, rng_before, stats_before) = (ext.backend.clone(), rng.clone(), stats.clone());
		let mut tries = 0;
		let n = loop {
			let block = std::panic::AssertUnwindSafe(|| {
				chain.open_block();
				let n = System::block_number();
				for _ in 0..rng.below(calls_per_block as u64 + 1) {
					apply(calls::draw(&mut rng), stats);
				}
				chain.close_block();
				for record in System::events() {
					*stats.events.entry(event_name(&record.event)).or_default() += 1;
				}
				n
			});
			let outcome = ext.execute_with(|| std::panic::catch_unwind(block)).map_err(|payload| {
				payload
					.downcast_ref::<String>()
					.cloned()
					.or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
					.unwrap_or_default()
			});
			match outcome {
				Ok(n) => break n,
				Err(e) if e.contains(DISABLED_AUTHOR) && tries < 3 => {
					tries += 1;
					ext.backend = backend.clone();
					ext.reset_overlay();
					rng = rng_before.clone();
					*stats = stats_before.clone();
					stats.refused_blocks += 1;
				},
				Err(e) => panic!("seed {seed} ({preset}): the runtime panicked: {e}"),
			}
		};
		stats.blocks += 1;
		if let Err(e) = ext.execute_with(|| chain::check_invariants(n)) {
			panic!("seed {seed} ({preset}), block {n}: {e}");
		}
	}
	stats.runs += 1;
}

/// Runs seeds from `first` on, alternating the two presets: at least
/// `min_runs` of them, then more until `secs` seconds have passed. What the
/// first `min_runs` seeds reach does not depend on the machine's speed.
pub fn run_for(first: u64, min_runs: u32, secs: u64, blocks: u32, calls_per_block: u32) -> Stats {
	let mut stats = Stats::default();
	let t0 = std::time::Instant::now();
	let mut seed = first;
	while stats.runs < min_runs.max(1) || t0.elapsed().as_secs() < secs {
		let preset = if seed.is_multiple_of(2) { "development" } else { "local_testnet" };
		run(preset, seed, blocks, calls_per_block, &mut stats);
		seed += 1;
	}
	stats
}

/// `name` from the environment, or `default`.
pub fn env_u64(name: &str, default: u64) -> u64 {
	std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
