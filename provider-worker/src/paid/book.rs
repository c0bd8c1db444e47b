//! The voucher book: every voucher the worker accepted, durable before the
//! request it pays for is served (docs/protocol.md §4.2), and per lane what is
//! served and what is claimed.
//!
//! It lives in one embedded database (`redb`, `vouchers.redb` in the data
//! directory) with group commit: concurrent acceptances are written by one
//! thread in one transaction and one sync, so a thousand requests in flight
//! cost a few syncs, not a thousand.
//!
//! Per lane it keeps the latest accepted voucher, whether that one was served,
//! the latest served one (what a claim takes: a voucher whose request was
//! never answered is not claimed, and its client may retry the request with the
//! same voucher), and the nonce and total last claimed on chain.
//!
//! Per lane it also keeps the latest answered request's answer, written in
//! the transaction that records it as served: a client whose connection broke
//! after the answer was made (the worker crashed, the network dropped) sends
//! the same voucher again and gets the same answer, byte for byte, instead of
//! paying for nothing.
//!
//! Once a claim is final on chain, the lane's vouchers up to the claimed
//! nonce are settled there and are pruned from the book in the same
//! transaction that records the claim: the book holds what is not yet paid,
//! not every request ever served. A channel gone from the chain (reclaimed
//! after its expiration) with nothing left to claim is forgotten whole: its
//! lanes and kept answers go ([`Book::forget_channel`]), so a client cannot
//! fill the worker's disk by opening channel after channel.
use agora_primitives::channels::{ChannelId, LaneId, SignedVoucher};
use codec::{Decode, Encode};
use redb::{Database, ReadableTable, TableDefinition};
use std::{
	collections::HashMap,
	path::Path,
	sync::{mpsc, Arc, Mutex},
};
use tokio::sync::oneshot;

type Voucher = SignedVoucher<u128>;

/// Every accepted voucher: (channel, lane, nonce) → SCALE(voucher, price).
const VOUCHERS: TableDefinition<(u64, u32, u64), &[u8]> = TableDefinition::new("vouchers");
/// Each lane's [`Lane`]: (channel, lane) → SCALE(lane).
const LANES: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("lanes");

/// Each lane's latest answer: (channel, lane) → SCALE([`KeptAnswer`]).
const ANSWERS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("answers");

/// Most acceptances written in one transaction.
const GROUP: usize = 1_024;

/// Where one lane stands at this worker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Lane {
	/// The latest accepted voucher and its request's price.
	pub latest: Option<(Voucher, u128)>,
	/// Whether `latest`'s request was answered.
	pub latest_served: bool,
	/// The latest voucher whose request was answered: what a claim takes.
	pub served: Option<Voucher>,
	/// The nonce and total of the last claim on chain.
	pub claimed_nonce: u64,
	pub claimed_total: u128,
}

impl Lane {
	/// The lane's accepted nonce and total (what the next voucher must beat).
	fn accepted(&self) -> (u64, u128) {
		self.latest
			.as_ref()
			.map(|(v, _)| (v.voucher.nonce, v.voucher.cumulative))
			.unwrap_or((self.claimed_nonce, self.claimed_total))
	}
}

/// An answer as it was sent, kept until the lane's next answer replaces it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct KeptAnswer {
	/// The voucher's nonce on its lane.
	pub nonce: u64,
	/// The request it answered ([`fingerprint`]): the same voucher with
	/// another request gets nothing.
	pub request: [u8; 32],
	/// The served receipt (`x-agora-receipt`).
	pub receipt: String,
	pub body: Body,
}

/// What an answer's HTTP body was.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Body {
	/// A JSON body.
	Whole(Vec<u8>),
	/// A server-sent event stream: each event's data, in order.
	Stream(Vec<String>),
}

/// A request as a kept answer names it: the hash of its path and body bytes.
pub fn fingerprint(path: &str, body: &[u8]) -> [u8; 32] {
	let mut bytes = Vec::with_capacity(path.len() + 1 + body.len());
	bytes.extend_from_slice(path.as_bytes());
	bytes.push(0);
	bytes.extend_from_slice(body);
	agora_primitives::rules::content_hash(&bytes)
}

/// Why a voucher is refused (each maps to its own HTTP status and message).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
	#[error("the voucher's nonce {got} is not above the lane's last accepted nonce {last}: a replayed voucher")]
	Replayed { got: u64, last: u64 },
	#[error("the voucher pays {paid} planck more on its lane; this request costs {price}")]
	Underpaid { paid: u128, price: u128 },
	#[error("the channel's accepted vouchers would total {total} planck, above its value {value}")]
	OverValue { total: u128, value: u128 },
}

enum Write {
	Accept(Voucher, u128, Lane),
	/// A lane whose latest voucher was answered, with the answer.
	Served(ChannelId, LaneId, Lane, KeptAnswer),
	/// The lane after a final claim; its vouchers up to the claimed nonce go.
	Claimed(ChannelId, LaneId, Lane),
	/// A channel gone from the chain: every lane, answer and voucher of it go.
	Forget(ChannelId),
}

type Job = (Vec<Write>, oneshot::Sender<Result<(), String>>);

/// The voucher book (cheap to share). The database closes when the last
/// clone is dropped, after every write sent to it.
#[derive(Clone)]
pub struct Book {
	inner: Arc<Inner>,
}

struct Inner {
	state: Mutex<State>,
	db: Arc<Database>,
	writer: Mutex<Option<mpsc::Sender<Job>>>,
	thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Inner {
	fn drop(&mut self) {
		drop(self.writer.lock().map(|mut w| w.take()));
		if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
			let _ = t.join();
		}
	}
}

#[derive(Default)]
struct State {
	lanes: HashMap<(ChannelId, LaneId), Lane>,
	/// Σ over a channel's lanes of their accepted totals.
	channel_totals: HashMap<ChannelId, u128>,
}

impl Book {
	/// Opens (or creates) the book in `dir` and loads every lane.
	pub fn open(dir: &Path) -> anyhow::Result<Self> {
		std::fs::create_dir_all(dir)?;
		let db = Database::create(dir.join("vouchers.redb"))?;
		let mut state = State::default();
		{
			let w = db.begin_write()?;
			w.open_table(VOUCHERS)?;
			w.open_table(LANES)?;
			w.open_table(ANSWERS)?;
			w.commit()?;
		}
		{
			let r = db.begin_read()?;
			let lanes = r.open_table(LANES)?;
			for row in lanes.iter()? {
				let (k, v) = row?;
				let (channel, lane) = k.value();
				let l = Lane::decode(&mut v.value())?;
				let t = state.channel_totals.entry(channel).or_default();
				*t = t.saturating_add(l.accepted().1);
				state.lanes.insert((channel, lane), l);
			}
		}
		let db = Arc::new(db);
		let (tx, rx) = mpsc::channel::<Job>();
		let writer_db = db.clone();
		let thread = std::thread::Builder::new()
			.name("voucher-book".into())
			.spawn(move || commit_loop(&writer_db, rx))?;
		Ok(Self {
			inner: Arc::new(Inner {
				state: Mutex::new(state),
				db,
				writer: Mutex::new(Some(tx)),
				thread: Mutex::new(Some(thread)),
			}),
		})
	}

	fn state(&self) -> std::sync::MutexGuard<'_, State> {
		self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
	}

	async fn write(&self, w: Vec<Write>) -> anyhow::Result<()> {
		let (tx, rx) = oneshot::channel();
		let stopped = || anyhow::anyhow!("the voucher book's writer stopped");
		let sender =
			self.inner.writer.lock().map_err(|_| stopped())?.clone().ok_or_else(stopped)?;
		sender.send((w, tx)).map_err(|_| stopped())?;
		rx.await
			.map_err(|_| anyhow::anyhow!("the voucher book's writer stopped"))?
			.map_err(|e| anyhow::anyhow!("voucher book: {e}"))
	}

	/// Accepts `v` for a request costing `price` on a channel of `value`, whose
	/// lane stood at `chain_lane` (nonce, claimed) on chain: checks it against
	/// the lane and the channel, and returns once it is durable. A voucher equal
	/// to the lane's latest, whose request was never answered, is a retry and is
	/// accepted again without a write; one whose request was answered brings
	/// back the kept answer (`Ok(Ok(Some(_)))`: serve it again, charge nothing
	/// more). `Ok(Err(_))`: refused, nothing written.
	pub async fn accept(
		&self,
		v: Voucher,
		price: u128,
		value: u128,
		chain_lane: (u64, u128),
	) -> anyhow::Result<Result<Option<KeptAnswer>, Refusal>> {
		let key = (v.voucher.channel_id, v.voucher.lane);
		let (before, after) = {
			let mut st = self.state();
			let lane = match st.lanes.get(&key) {
				Some(l) => l.clone(),
				None => {
					// A lane new to this book starts where the chain has it; what
					// it already paid counts against the value.
					let t = st.channel_totals.entry(key.0).or_default();
					*t = t.saturating_add(chain_lane.1);
					let fresh = Lane {
						claimed_nonce: chain_lane.0,
						claimed_total: chain_lane.1,
						..Default::default()
					};
					st.lanes.insert(key, fresh.clone());
					fresh
				},
			};
			let (nonce, total) = lane.accepted();
			if lane.latest.as_ref().is_some_and(|(l, _)| *l == v) {
				if !lane.latest_served {
					return Ok(Ok(None));
				}
				drop(st);
				return Ok(match self.kept(key)? {
					Some(k) if k.nonce == v.voucher.nonce => Ok(Some(k)),
					_ => Err(Refusal::Replayed { got: v.voucher.nonce, last: nonce }),
				});
			}
			if v.voucher.nonce <= nonce {
				return Ok(Err(Refusal::Replayed { got: v.voucher.nonce, last: nonce }));
			}
			let paid = v.voucher.cumulative.saturating_sub(total);
			if v.voucher.cumulative < total || paid < price {
				return Ok(Err(Refusal::Underpaid { paid, price }));
			}
			let channel_total =
				st.channel_totals.get(&key.0).copied().unwrap_or(0).saturating_add(paid);
			if channel_total > value {
				return Ok(Err(Refusal::OverValue { total: channel_total, value }));
			}
			let mut after = lane.clone();
			after.latest = Some((v, price));
			after.latest_served = false;
			st.channel_totals.insert(key.0, channel_total);
			st.lanes.insert(key, after.clone());
			(lane, after)
		};
		if let Err(e) = self.write(vec![Write::Accept(v, price, after)]).await {
			// Not durable: not accepted. Undo, unless a later voucher took the lane.
			let mut st = self.state();
			if st
				.lanes
				.get(&key)
				.is_some_and(|l| l.latest.as_ref().is_some_and(|(l, _)| *l == v))
			{
				let paid = v.voucher.cumulative.saturating_sub(before.accepted().1);
				if let Some(t) = st.channel_totals.get_mut(&key.0) {
					*t = t.saturating_sub(paid);
				}
				st.lanes.insert(key, before);
			}
			return Err(e);
		}
		Ok(Ok(None))
	}

	/// The lane's kept answer, from disk.
	fn kept(&self, (channel, lane): (ChannelId, LaneId)) -> anyhow::Result<Option<KeptAnswer>> {
		let r = self.inner.db.begin_read()?;
		let t = r.open_table(ANSWERS)?;
		let Some(row) = t.get((channel, lane))? else { return Ok(None) };
		Ok(Some(KeptAnswer::decode(&mut row.value())?))
	}

	/// Records that `v`'s request was answered with `answer`: from now on a
	/// claim takes it, and a retry of the same request with the same voucher
	/// gets `answer` again. Returns once both are durable.
	pub async fn served(&self, v: &Voucher, answer: KeptAnswer) -> anyhow::Result<()> {
		let key = (v.voucher.channel_id, v.voucher.lane);
		let lane = {
			let mut st = self.state();
			let Some(lane) = st.lanes.get_mut(&key) else { return Ok(()) };
			if lane.served.as_ref().is_some_and(|s| s.voucher.nonce >= v.voucher.nonce) {
				return Ok(());
			}
			lane.served = Some(*v);
			if lane.latest.as_ref().is_some_and(|(l, _)| l == v) {
				lane.latest_served = true;
			}
			lane.clone()
		};
		self.write(vec![Write::Served(key.0, key.1, lane, answer)]).await
	}

	/// The served vouchers not claimed yet: one per lane, its latest.
	pub fn claimable(&self) -> Vec<Voucher> {
		let st = self.state();
		let mut out: Vec<Voucher> = st
			.lanes
			.values()
			.filter_map(|l| l.served.filter(|s| s.voucher.nonce > l.claimed_nonce))
			.collect();
		out.sort_by_key(|v| (v.voucher.channel_id, v.voucher.lane));
		out
	}

	/// What the claimable vouchers would pay.
	pub fn unclaimed(&self) -> u128 {
		let st = self.state();
		st.lanes
			.values()
			.filter_map(|l| {
				l.served
					.filter(|s| s.voucher.nonce > l.claimed_nonce)
					.map(|s| s.voucher.cumulative.saturating_sub(l.claimed_total))
			})
			.sum()
	}

	/// Records claims that are final on chain, and prunes the vouchers they
	/// settled.
	pub async fn claimed(&self, vouchers: &[Voucher]) -> anyhow::Result<()> {
		let writes = {
			let mut st = self.state();
			let mut w = vec![];
			for v in vouchers {
				let key = (v.voucher.channel_id, v.voucher.lane);
				if let Some(lane) = st.lanes.get_mut(&key) {
					if v.voucher.nonce > lane.claimed_nonce {
						lane.claimed_nonce = v.voucher.nonce;
						lane.claimed_total = v.voucher.cumulative;
						w.push(Write::Claimed(key.0, key.1, lane.clone()));
					}
				}
			}
			w
		};
		self.write(writes).await
	}

	/// The channels this book holds lanes of with nothing served left to
	/// claim: those to forget once the chain no longer has them.
	pub fn settled_channels(&self) -> Vec<ChannelId> {
		let st = self.state();
		let mut open: Vec<ChannelId> = st
			.lanes
			.iter()
			.filter(|(_, l)| l.served.is_some_and(|s| s.voucher.nonce > l.claimed_nonce))
			.map(|((c, _), _)| *c)
			.collect();
		open.sort_unstable();
		let mut out: Vec<ChannelId> =
			st.lanes.keys().map(|(c, _)| *c).filter(|c| open.binary_search(c).is_err()).collect();
		out.sort_unstable();
		out.dedup();
		out
	}

	/// Forgets channel `id` whole: its lanes, their kept answers and any
	/// voucher left, in one transaction; returns how many lanes went. Only for
	/// a channel the chain no longer has (its ids are never reused): no
	/// voucher of it can be paid or disputed any more, so nothing payable is
	/// lost, and one that comes later is refused as of an unknown channel.
	pub async fn forget_channel(&self, id: ChannelId) -> anyhow::Result<usize> {
		self.write(vec![Write::Forget(id)]).await?;
		let mut st = self.state();
		let before = st.lanes.len();
		st.lanes.retain(|(c, _), _| *c != id);
		st.channel_totals.remove(&id);
		Ok(before - st.lanes.len())
	}

	/// Every accepted voucher not yet settled by a final claim, with its price,
	/// as on disk (for audits and tests).
	pub fn accepted(&self) -> anyhow::Result<Vec<(Voucher, u128)>> {
		let r = self.inner.db.begin_read()?;
		let t = r.open_table(VOUCHERS)?;
		let mut out = vec![];
		for row in t.iter()? {
			let (_, v) = row?;
			out.push(<(Voucher, u128)>::decode(&mut v.value())?);
		}
		Ok(out)
	}
}

/// The writer: takes every acceptance waiting, writes them in one transaction,
/// syncs once, answers each.
fn commit_loop(db: &Database, rx: mpsc::Receiver<Job>) {
	while let Ok(first) = rx.recv() {
		let mut jobs = vec![first];
		while jobs.len() < GROUP {
			match rx.try_recv() {
				Ok(j) => jobs.push(j),
				Err(_) => break,
			}
		}
		let result = write_group(db, &jobs).map_err(|e| e.to_string());
		for (_, reply) in jobs {
			let _ = reply.send(result.clone());
		}
	}
}

/// One transaction with every write of `jobs`, committed (and synced) once.
#[allow(clippy::result_large_err)] // redb's own error type
fn write_group(db: &Database, jobs: &[Job]) -> Result<(), redb::Error> {
	let w = db.begin_write()?;
	{
		let mut vouchers = w.open_table(VOUCHERS)?;
		let mut lanes = w.open_table(LANES)?;
		let mut answers = w.open_table(ANSWERS)?;
		for (writes, _) in jobs {
			for write in writes {
				match write {
					Write::Accept(v, price, lane) => {
						let k = (v.voucher.channel_id, v.voucher.lane, v.voucher.nonce);
						vouchers.insert(k, (v, price).encode().as_slice())?;
						lanes.insert((k.0, k.1), lane.encode().as_slice())?;
					},
					Write::Served(c, l, lane, answer) => {
						lanes.insert((*c, *l), lane.encode().as_slice())?;
						answers.insert((*c, *l), answer.encode().as_slice())?;
					},
					Write::Claimed(c, l, lane) => {
						lanes.insert((*c, *l), lane.encode().as_slice())?;
						let settled: Vec<u64> = vouchers
							.range((*c, *l, 0)..=(*c, *l, lane.claimed_nonce))?
							.map(|row| row.map(|(k, _)| k.value().2))
							.collect::<Result<_, _>>()?;
						for nonce in settled {
							vouchers.remove((*c, *l, nonce))?;
						}
					},
					Write::Forget(c) => {
						vouchers.retain_in((*c, 0, 0)..=(*c, u32::MAX, u64::MAX), |_, _| false)?;
						lanes.retain_in((*c, 0)..=(*c, u32::MAX), |_, _| false)?;
						answers.retain_in((*c, 0)..=(*c, u32::MAX), |_, _| false)?;
					},
				}
			}
		}
	}
	w.commit()?;
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;
	use agora_primitives::channels::Voucher as V;

	fn v(channel: u64, lane: u32, nonce: u64, total: u128) -> Voucher {
		SignedVoucher {
			voucher: V { channel_id: channel, lane, nonce, cumulative: total },
			signature: [nonce as u8; 64],
		}
	}

	fn answer(nonce: u64, body: &[u8]) -> KeptAnswer {
		KeptAnswer {
			nonce,
			request: fingerprint("/v1/embeddings", body),
			receipt: format!("0x{nonce:02x}"),
			body: Body::Whole(body.to_vec()),
		}
	}

	#[tokio::test]
	async fn accepts_in_order_refuses_replays_underpayment_and_over_value_and_survives_a_restart() {
		let dir = tempfile::tempdir().unwrap();
		let book = Book::open(dir.path()).unwrap();
		assert_eq!(book.accept(v(1, 0, 1, 10), 10, 25, (0, 0)).await.unwrap(), Ok(None));
		assert_eq!(book.accept(v(1, 1, 1, 10), 10, 25, (0, 0)).await.unwrap(), Ok(None));
		assert_eq!(
			book.accept(v(1, 0, 1, 20), 10, 25, (0, 0)).await.unwrap(),
			Err(Refusal::Replayed { got: 1, last: 1 })
		);
		assert_eq!(
			book.accept(v(1, 0, 2, 15), 10, 25, (0, 0)).await.unwrap(),
			Err(Refusal::Underpaid { paid: 5, price: 10 })
		);
		assert_eq!(
			book.accept(v(1, 0, 2, 20), 10, 25, (0, 0)).await.unwrap(),
			Err(Refusal::OverValue { total: 30, value: 25 })
		);
		// A retry of an unanswered request with the same voucher is accepted again.
		assert_eq!(book.accept(v(1, 1, 1, 10), 10, 25, (0, 0)).await.unwrap(), Ok(None));
		assert!(book.claimable().is_empty(), "nothing served yet");
		book.served(&v(1, 0, 1, 10), answer(1, b"one")).await.unwrap();
		assert_eq!(book.claimable(), vec![v(1, 0, 1, 10)]);
		assert_eq!(book.unclaimed(), 10);
		// Once served, the same voucher brings back its answer, charging nothing more.
		assert_eq!(book.accept(v(1, 0, 1, 10), 10, 25, (0, 0)).await.unwrap(), Ok(Some(answer(1, b"one"))));
		assert_eq!(book.unclaimed(), 10);
		// Another voucher with the same nonce is a replay.
		assert_eq!(
			book.accept(v(1, 0, 1, 15), 10, 25, (0, 0)).await.unwrap(),
			Err(Refusal::Replayed { got: 1, last: 1 })
		);
		drop(book);

		let book = Book::open(dir.path()).unwrap();
		assert_eq!(book.claimable(), vec![v(1, 0, 1, 10)], "the served voucher survived");
		assert_eq!(
			book.accept(v(1, 0, 1, 10), 10, 25, (0, 0)).await.unwrap(),
			Ok(Some(answer(1, b"one"))),
			"and so did its answer"
		);
		assert_eq!(
			book.accept(v(1, 0, 2, 20), 10, 25, (0, 0)).await.unwrap(),
			Err(Refusal::OverValue { total: 30, value: 25 }),
			"the unanswered lane-1 voucher still counts against the value"
		);
		book.claimed(&[v(1, 0, 1, 10)]).await.unwrap();
		assert!(book.claimable().is_empty());
		// The claimed voucher is settled on chain and pruned; lane 1's stays.
		assert_eq!(book.accepted().unwrap(), vec![(v(1, 1, 1, 10), 10)]);
	}

	#[tokio::test]
	async fn a_final_claim_prunes_what_it_settled_and_nothing_else() {
		let dir = tempfile::tempdir().unwrap();
		let book = Book::open(dir.path()).unwrap();
		for n in 1..=5u64 {
			assert_eq!(book.accept(v(4, 0, n, u128::from(n) * 10), 10, 1_000, (0, 0)).await.unwrap(), Ok(None));
			book.served(&v(4, 0, n, u128::from(n) * 10), answer(n, b"n")).await.unwrap();
		}
		assert_eq!(book.accept(v(4, 1, 1, 10), 10, 1_000, (0, 0)).await.unwrap(), Ok(None));
		assert_eq!(book.accepted().unwrap().len(), 6);
		// A claim of nonce 3 (final on chain) settles 1..=3 of lane 0.
		book.claimed(&[v(4, 0, 3, 30)]).await.unwrap();
		let left: Vec<(u32, u64)> =
			book.accepted().unwrap().iter().map(|(x, _)| (x.voucher.lane, x.voucher.nonce)).collect();
		assert_eq!(left, vec![(0, 4), (0, 5), (1, 1)]);
		// The lane still knows where it stands: the latest served is claimable,
		// a replay of a settled nonce is refused, and all of it survives a restart.
		assert_eq!(book.claimable(), vec![v(4, 0, 5, 50)]);
		drop(book);
		let book = Book::open(dir.path()).unwrap();
		assert_eq!(book.accepted().unwrap().len(), 3);
		assert_eq!(book.claimable(), vec![v(4, 0, 5, 50)]);
		assert_eq!(
			book.accept(v(4, 0, 2, 60), 10, 1_000, (0, 0)).await.unwrap(),
			Err(Refusal::Replayed { got: 2, last: 5 })
		);
		assert_eq!(book.accept(v(4, 0, 6, 60), 10, 1_000, (0, 0)).await.unwrap(), Ok(None));
		book.claimed(&[v(4, 0, 5, 50)]).await.unwrap();
		assert_eq!(book.accepted().unwrap().len(), 2, "lane 0's 6 (unserved) and lane 1's 1 stay");
		// Only the lane's latest answer is kept: nonce 5's voucher, no longer
		// the latest, is a replay.
		assert_eq!(
			book.accept(v(4, 0, 5, 50), 10, 1_000, (0, 0)).await.unwrap(),
			Err(Refusal::Replayed { got: 5, last: 6 })
		);
	}

	#[tokio::test]
	async fn a_closed_channel_is_forgotten_whole_and_others_are_untouched() {
		let dir = tempfile::tempdir().unwrap();
		let book = Book::open(dir.path()).unwrap();
		// Channel 4: served and not claimed. Channel 5: two lanes served and
		// claimed. Channel 9: a voucher accepted, its request never answered.
		assert_eq!(book.accept(v(4, 0, 1, 10), 10, 1_000, (0, 0)).await.unwrap(), Ok(None));
		book.served(&v(4, 0, 1, 10), answer(1, b"four")).await.unwrap();
		for lane in [0, 3] {
			assert_eq!(book.accept(v(5, lane, 1, 10), 10, 1_000, (0, 0)).await.unwrap(), Ok(None));
			book.served(&v(5, lane, 1, 10), answer(1, b"five")).await.unwrap();
		}
		book.claimed(&[v(5, 0, 1, 10), v(5, 3, 1, 10)]).await.unwrap();
		assert_eq!(book.accept(v(9, 2, 1, 10), 10, 1_000, (0, 0)).await.unwrap(), Ok(None));
		// Channel 4 still has a claim to make: it is never offered for forgetting.
		assert_eq!(book.settled_channels(), vec![5, 9]);
		assert_eq!(book.forget_channel(5).await.unwrap(), 2);
		assert_eq!(book.forget_channel(9).await.unwrap(), 1);
		assert!(book.settled_channels().is_empty());
		drop(book);
		// Gone from disk too, answers and vouchers with the lanes; channel 4 whole.
		let book = Book::open(dir.path()).unwrap();
		assert!(book.kept((5, 0)).unwrap().is_none() && book.kept((5, 3)).unwrap().is_none());
		assert_eq!(book.kept((4, 0)).unwrap().map(|k| k.body), Some(Body::Whole(b"four".to_vec())));
		let left: Vec<u64> = book.accepted().unwrap().iter().map(|(x, _)| x.voucher.channel_id).collect();
		assert_eq!(left, vec![4]);
		assert_eq!(book.claimable(), vec![v(4, 0, 1, 10)]);
		assert_eq!(book.unclaimed(), 10);
		assert!(book.state().lanes.keys().all(|(c, _)| *c == 4));
	}

	#[tokio::test]
	async fn a_lane_starts_from_its_claims_on_chain() {
		let dir = tempfile::tempdir().unwrap();
		let book = Book::open(dir.path()).unwrap();
		// The chain says lane 0 already paid 50 at nonce 7 (an earlier book was lost).
		assert!(book.accept(v(2, 0, 7, 60), 10, 100, (7, 50)).await.unwrap().is_err());
		assert_eq!(book.accept(v(2, 0, 8, 60), 10, 100, (7, 50)).await.unwrap(), Ok(None));
	}

	#[tokio::test]
	async fn concurrent_acceptances_share_commits() {
		let dir = tempfile::tempdir().unwrap();
		let book = Book::open(dir.path()).unwrap();
		let mut tasks = vec![];
		for lane in 0..64u32 {
			let book = book.clone();
			tasks.push(tokio::spawn(async move {
				for n in 1..=20u64 {
					book.accept(v(3, lane, n, u128::from(n) * 5), 5, u128::MAX, (0, 0))
						.await
						.unwrap()
						.unwrap();
				}
			}));
		}
		for t in tasks {
			t.await.unwrap();
		}
		assert_eq!(book.accepted().unwrap().len(), 64 * 20);
	}
}
