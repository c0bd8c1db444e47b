//! The paid API under load (`agora-worker bench-channels`, run by
//! `scripts/bench-channels.sh`):
//!
//! - [`vouchers`]: the voucher path alone, in process: signature check +
//!   durable acceptance in a fresh voucher book, `concurrency` at once;
//! - [`engine_baseline`]: MiniLM's own speed on this machine, batch 1 and
//!   batched, with nothing else running;
//! - [`run`]: paid embeddings end to end against a running worker: 64 clients
//!   (4 channels × 16 lanes), each sending its next request as soon as the last
//!   is answered, for `secs`; paid requests per second, p50 and p99 latency.
use super::book::Book;
use agora_client::channel::{self, Payer};
use agora_primitives::channels::SignedVoucher;
use std::time::{Duration, Instant};

const SENTENCE: &str =
	"A paid request: the cat sits on the mat while the provider is paid per sentence.";

/// The voucher path's throughput and cost.
#[derive(Debug, serde::Serialize)]
pub struct VoucherReport {
	pub vouchers: usize,
	pub concurrency: usize,
	pub per_sec: f64,
	/// Wall time per voucher at this concurrency (1 / throughput), µs.
	pub amortized_us: f64,
	/// One voucher's own latency (check + durable write), median, µs.
	pub latency_p50_us: f64,
	/// The signature check alone, µs.
	pub verify_us: f64,
}

/// Checks and durably accepts `n` vouchers, `concurrency` lanes at once.
pub async fn vouchers(n: usize, concurrency: usize) -> anyhow::Result<VoucherReport> {
	let dir = tempfile::tempdir()?;
	let book = Book::open(dir.path())?;
	let key = agora_client::chain::keypair(Some("//Dave"), None)?;
	let signer = key.public_key().0;
	let per = n.div_ceil(concurrency);
	// Signed beforehand: signing is the client's cost.
	let lanes: Vec<Vec<SignedVoucher<u128>>> = (0..concurrency)
		.map(|lane| {
			(1..=per as u64)
				.map(|i| channel::sign(&key, 1, lane as u32, i, u128::from(i) * 10))
				.collect()
		})
		.collect();
	let t_verify = Instant::now();
	let probe = lanes
		.first()
		.and_then(|l| l.first())
		.copied()
		.ok_or_else(|| anyhow::anyhow!("no vouchers"))?;
	for _ in 0..200 {
		anyhow::ensure!(probe.voucher.verify(&probe.signature, &signer));
	}
	let verify_us = t_verify.elapsed().as_secs_f64() * 1e6 / 200.0;
	let t0 = Instant::now();
	let mut tasks = vec![];
	for lane in lanes {
		let book = book.clone();
		tasks.push(tokio::spawn(async move {
			let mut lat = Vec::with_capacity(lane.len());
			for v in lane {
				let t = Instant::now();
				anyhow::ensure!(v.voucher.verify(&v.signature, &signer), "bad signature");
				book.accept(v, 10, u128::MAX, (0, 0))
					.await?
					.map_err(|r| anyhow::anyhow!("{r}"))?;
				lat.push(t.elapsed().as_secs_f64() * 1e6);
			}
			anyhow::Ok(lat)
		}));
	}
	let mut lat = vec![];
	for t in tasks {
		lat.extend(t.await??);
	}
	let secs = t0.elapsed().as_secs_f64();
	let done = lat.len();
	anyhow::ensure!(book.accepted()?.len() == done, "a voucher was not persisted");
	Ok(VoucherReport {
		vouchers: done,
		concurrency,
		per_sec: done as f64 / secs,
		amortized_us: secs * 1e6 / done as f64,
		latency_p50_us: percentile(&mut lat, 0.5),
		verify_us,
	})
}

/// MiniLM alone: sentences per second at batch 1 and batch `batch`.
#[derive(Debug, serde::Serialize)]
pub struct EngineReport {
	pub batch1_us: f64,
	pub batch1_per_sec: f64,
	pub batch: usize,
	pub batched_per_sec: f64,
}

/// Measures the embedding engine (`engine` must embed).
pub fn engine_baseline(
	engine: &dyn agora_engine::Engine,
	batch: usize,
) -> anyhow::Result<EngineReport> {
	let one = [SENTENCE];
	let many: Vec<&str> = vec![SENTENCE; batch];
	let run = |texts: &[&str]| -> anyhow::Result<()> {
		engine
			.embed_many(texts)
			.ok_or_else(|| anyhow::anyhow!("not an embedding model"))??;
		Ok(())
	};
	run(&one)?;
	let t = Instant::now();
	let n1 = 200;
	for _ in 0..n1 {
		run(&one)?;
	}
	let batch1 = t.elapsed().as_secs_f64() / f64::from(n1);
	let t = Instant::now();
	let nb = 10;
	for _ in 0..nb {
		run(&many)?;
	}
	let batched = t.elapsed().as_secs_f64() / f64::from(nb);
	Ok(EngineReport {
		batch1_us: batch1 * 1e6,
		batch1_per_sec: 1.0 / batch1,
		batch,
		batched_per_sec: batch as f64 / batched,
	})
}

/// End to end under load.
#[derive(Debug, serde::Serialize)]
pub struct LoadReport {
	pub clients: usize,
	/// The requests' `encoding_format`.
	pub encoding: String,
	pub secs: f64,
	pub paid: usize,
	pub refused: usize,
	/// The refusals by HTTP status and error code (`"503 chain_unavailable"`).
	pub refused_by: std::collections::BTreeMap<String, usize>,
	pub per_sec: f64,
	pub p50_ms: f64,
	pub p99_ms: f64,
	/// What the worker's book says was accepted, against what was paid for.
	pub price: u128,
}

fn percentile(v: &mut [f64], q: f64) -> f64 {
	if v.is_empty() {
		return 0.0;
	}
	v.sort_by(|a, b| a.total_cmp(b));
	let i = ((v.len() - 1) as f64 * q).round() as usize;
	v.get(i).copied().unwrap_or(0.0)
}

/// 64 clients (the dev accounts Dave, Eve, Ferdie and Charlie, a channel each
/// to the worker's provider, 16 lanes each) send paid embeddings for `secs`,
/// asking for `encoding` (`encoding_format`: `float` or `base64`).
pub async fn run(node: &str, worker: &str, secs: u64, encoding: &str) -> anyhow::Result<LoadReport> {
	let http = reqwest::Client::builder().pool_max_idle_per_host(128).build()?;
	let health: serde_json::Value =
		http.get(format!("{worker}/health")).send().await?.json().await?;
	let provider: subxt::utils::AccountId32 = health["provider"]
		.as_str()
		.ok_or_else(|| anyhow::anyhow!("the worker's /health names no provider"))?
		.parse()
		.map_err(|e| anyhow::anyhow!("provider: {e:?}"))?;
	let models: serde_json::Value =
		http.get(format!("{worker}/v1/models")).send().await?.json().await?;
	let minilm = models["data"]
		.as_array()
		.and_then(|d| d.iter().find(|m| m["id"] == "all-MiniLM-L6-v2"))
		.ok_or_else(|| anyhow::anyhow!("the worker does not serve all-MiniLM-L6-v2"))?;
	let num = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<u128>().ok()).unwrap_or(0);
	let price = num(&minilm["agora"]["base_price"])
		.saturating_add(num(&minilm["agora"]["price_per_1k_tokens"]) / 1000);
	let client = agora_client::chain::connect(node).await?;
	let mut payers = vec![];
	for who in ["//Dave", "//Eve", "//Ferdie", "//Charlie"] {
		let key = agora_client::chain::keypair(Some(who), None)?;
		let (id, _, _) = channel::open(
			&client,
			&key,
			provider,
			None,
			1_000 * agora_primitives::AGR,
			20_000,
		)
		.await?;
		payers.push(std::sync::Arc::new(tokio::sync::Mutex::new(Payer::new(key, id))));
	}
	let deadline = Instant::now() + Duration::from_secs(secs);
	let t0 = Instant::now();
	let mut tasks = vec![];
	for c in 0..64usize {
		let (http, payer, url) =
			(http.clone(), payers[c % 4].clone(), format!("{worker}/v1/embeddings"));
		let encoding = encoding.to_string();
		let lane = (c / 4) as u32;
		tasks.push(tokio::spawn(async move {
			let (mut lat, mut refused) = (vec![], std::collections::BTreeMap::<String, usize>::new());
			let body = serde_json::json!({"model": "all-MiniLM-L6-v2", "input": SENTENCE, "encoding_format": encoding});
			while Instant::now() < deadline {
				let v = payer.lock().await.pay(lane, price)?;
				let t = Instant::now();
				let resp = http
					.post(&url)
					.header(channel::VOUCHER_HEADER, channel::to_header(&v))
					.json(&body)
					.send()
					.await?;
				let status = resp.status();
				let bytes = resp.bytes().await?;
				if status.is_success() {
					lat.push(t.elapsed().as_secs_f64() * 1e3);
				} else {
					let code = serde_json::from_slice::<serde_json::Value>(&bytes)
						.ok()
						.and_then(|e| e["error"]["code"].as_str().map(str::to_string))
						.unwrap_or_default();
					*refused.entry(format!("{} {code}", status.as_u16())).or_default() += 1;
				}
			}
			anyhow::Ok((lat, refused))
		}));
	}
	let (mut lat, mut refused_by) = (vec![], std::collections::BTreeMap::<String, usize>::new());
	for t in tasks {
		let (l, r) = t.await??;
		lat.extend(l);
		for (k, n) in r {
			*refused_by.entry(k).or_default() += n;
		}
	}
	let refused = refused_by.values().sum();
	let secs = t0.elapsed().as_secs_f64();
	let paid = lat.len();
	Ok(LoadReport {
		clients: 64,
		encoding: encoding.to_string(),
		secs,
		paid,
		refused,
		refused_by,
		per_sec: paid as f64 / secs,
		p50_ms: percentile(&mut lat, 0.5),
		p99_ms: percentile(&mut lat, 0.99),
		price,
	})
}

#[cfg(test)]
mod tests {
	#[tokio::test]
	async fn the_voucher_bench_persists_every_voucher() {
		let r = super::vouchers(256, 16).await.unwrap();
		assert_eq!(r.vouchers, 256);
		assert!(r.per_sec > 0.0 && r.verify_us > 0.0);
	}

	#[test]
	fn percentiles() {
		let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
		assert_eq!(super::percentile(&mut v, 0.5), 51.0);
		assert_eq!(super::percentile(&mut v, 0.99), 99.0);
	}
}
