//! What a phase saw in finalized blocks, and the report made of it.
use crate::{At, Events};
use agora_client::chain::{self, runtime, Client};
use serde::Serialize;
use std::{
	collections::BTreeMap,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex,
	},
};

/// What a phase saw in finalized blocks: (block, timestamp ms, events counted).
#[derive(Default)]
pub(crate) struct Tally {
	pub(crate) blocks: Vec<(u64, u64, u64)>,
}

#[derive(Serialize, Default, Debug)]
pub(crate) struct PhaseReport {
	/// Counted events per second over the steady window.
	pub(crate) per_second: f64,
	/// Events counted in the steady window, and its length.
	pub(crate) in_window: u64,
	pub(crate) window_secs: f64,
	/// Every counted event in the phase.
	pub(crate) total: u64,
	/// Transactions submitted (transfers, or job orders), receipts submitted
	/// (jobs), and those refused by the pool or failed in a block (by error).
	pub(crate) submitted: u64,
	pub(crate) receipts_submitted: u64,
	/// Jobs that expired without a receipt (the provider slashed), in best
	/// blocks, and the offer's jobs still open when the phase gave up
	/// waiting (3 dispute windows after the last order).
	pub(crate) expired: u64,
	pub(crate) open_at_end: u64,
	/// Jobs only: receipts drawn for an audit (`AuditStarted`, in best
	/// blocks; with `--audit-rate`), which wait for a committee instead of
	/// being finalized.
	pub(crate) audits_started: u64,
	pub(crate) failed: BTreeMap<String, u64>,
	/// Transactions the pool accepted and later dropped (signed again).
	pub(crate) dropped_by_pool: u64,
	/// Finalized blocks seen in the phase, and the most events one held.
	pub(crate) blocks: u64,
	pub(crate) max_per_block: u64,
	/// Jobs only: the rate while orders still went in (from the first payout
	/// to the last in a block stamped before the orders stopped), so that the
	/// backlog's drain once the orders stop does not flatter `per_second`.
	pub(crate) under_load_per_second: f64,
	pub(crate) under_load: u64,
	pub(crate) under_load_secs: f64,
}

#[derive(Serialize, Debug)]
pub(crate) struct Report {
	pub(crate) node: String,
	pub(crate) clients: u32,
	pub(crate) window: u64,
	pub(crate) seconds: u64,
	/// `AUDIT_RATE` set for the run (ppm), if `--audit-rate` was given.
	pub(crate) audit_rate: Option<u32>,
	pub(crate) transfers: Option<PhaseReport>,
	pub(crate) job_cycles: Option<PhaseReport>,
	/// Finalized transfers per finalized job cycle, per second.
	pub(crate) transfers_per_job_cycle: Option<f64>,
}

pub(crate) fn short(e: &str) -> String {
	e.chars().take(120).collect()
}

/// A dispatch error by name (`Pallet::Variant`), as of the runtime at `at`.
pub(crate) fn error_name(at: &At, e: &runtime::runtime_types::sp_runtime::DispatchError) -> String {
	match chain::module_error(at.metadata_ref(), e) {
		Some((pallet, name, _)) => format!("{pallet}::{name}"),
		None => format!("{e:?}"),
	}
}

/// Failed extrinsics in `events`, and receipts a `jobs.submit_receipts` batch
/// or orders a `jobs.submit_jobs` batch refused, by error name (every transaction on the bench chain is this
/// generator's; `at` gives the metadata).
pub(crate) fn count_failures(at: &At, events: &Events, failed: &Mutex<BTreeMap<String, u64>>) {
	let mut failed = failed.lock().unwrap_or_else(|p| p.into_inner());
	for ev in events.find::<runtime::system::events::ExtrinsicFailed>().flatten() {
		*failed.entry(error_name(at, &ev.dispatch_error)).or_default() += 1;
	}
	for ev in events.find::<runtime::jobs::events::ReceiptRefused>().flatten() {
		*failed.entry(format!("receipt refused: {}", error_name(at, &ev.error))).or_default() += 1;
	}
	for ev in events.find::<runtime::jobs::events::OrderRefused>().flatten() {
		*failed.entry(format!("order refused: {}", error_name(at, &ev.error))).or_default() += 1;
	}
}

pub(crate) fn tally_finalized<F>(
	client: Client,
	count: F,
	tally: Arc<Mutex<Tally>>,
	stop: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<anyhow::Result<()>>
where
	F: Fn(&Events) -> u64 + Send + 'static,
{
	tokio::spawn(async move {
		let mut blocks = client.stream_blocks().await?;
		while let Some(block) = blocks.next().await {
			let block = block?;
			let at = block.at().await?;
			let events = at.events().fetch().await?;
			let n = count(&events);
			let ts = at.storage().entry(runtime::storage().timestamp().now())?.try_fetch(()).await?;
			let ts = ts.map(|v| v.decode()).transpose()?.unwrap_or(0);
			tally.lock().unwrap_or_else(|p| p.into_inner()).blocks.push((block.number(), ts, n));
			if block.number() >= stop.load(Ordering::Relaxed) {
				break;
			}
		}
		Ok(())
	})
}

/// The rate over the blocks whose timestamps lie in `(from, to]`, from the
/// first of them with a counted event to the last: the events in the blocks
/// after the first, over the time between the two.
fn steady(tally: &Tally, from_ms: u64, to_ms: u64) -> (u64, f64) {
	let window: Vec<_> = tally.blocks.iter().filter(|(_, ts, _)| *ts > from_ms && *ts <= to_ms).collect();
	let (Some(first), Some(last)) =
		(window.iter().position(|b| b.2 > 0), window.iter().rposition(|b| b.2 > 0))
	else {
		return (0, 0.0);
	};
	let counted = window.iter().take(last + 1).skip(first + 1).map(|b| b.2).sum::<u64>();
	let secs = match (window.get(first), window.get(last)) {
		(Some(a), Some(b)) => b.1.saturating_sub(a.1) as f64 / 1000.0,
		_ => 0.0,
	};
	(counted, secs)
}

/// [`steady`] and its events per second (0 for a window of no length).
pub(crate) fn rate(tally: &Tally, from_ms: u64, to_ms: u64) -> (u64, f64, f64) {
	let (n, secs) = steady(tally, from_ms, to_ms);
	(n, secs, if secs > 0.0 { n as f64 / secs } else { 0.0 })
}

pub(crate) fn now_ms() -> u64 {
	std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub(crate) fn finish(tally: &Tally, from_ms: u64, to_ms: u64, submitted: u64, failed: BTreeMap<String, u64>) -> PhaseReport {
	let (in_window, window_secs, per_second) = rate(tally, from_ms, to_ms);
	let counted: Vec<_> = tally.blocks.iter().filter(|(_, ts, _)| *ts > from_ms).collect();
	PhaseReport {
		per_second,
		in_window,
		window_secs,
		total: counted.iter().map(|b| b.2).sum(),
		submitted,
		receipts_submitted: 0,
		expired: 0,
		open_at_end: 0,
		audits_started: 0,
		failed,
		dropped_by_pool: 0,
		blocks: counted.len() as u64,
		max_per_block: counted.iter().map(|b| b.2).max().unwrap_or(0),
		under_load_per_second: 0.0,
		under_load: 0,
		under_load_secs: 0.0,
	}
}
