//! Prometheus metrics served at `/metrics`.
use prometheus::{
	Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
	Registry, TextEncoder,
};

/// The worker's metrics.
#[derive(Clone)]
pub struct Metrics {
	registry: Registry,
	/// Jobs finished, by model and outcome (`receipted`, `error_receipt`, `failed`, `abandoned`).
	pub jobs: IntCounterVec,
	/// Output tokens generated.
	pub tokens: IntCounter,
	/// Seconds per inference, by model.
	pub inference: HistogramVec,
	/// Seconds from inference end to the receipt's finalized inclusion.
	pub receipt: Histogram,
	/// Jobs waiting or running.
	pub queue_depth: IntGauge,
	/// By-hash jobs whose input never came, reported missing on chain.
	pub inputs_missing: IntCounter,
}

impl Metrics {
	/// Creates and registers every metric.
	pub fn new() -> anyhow::Result<Self> {
		let registry = Registry::new_custom(Some("agora_worker".into()), None)?;
		let jobs = IntCounterVec::new(
			Opts::new("jobs_served_total", "Jobs finished, by model and outcome"),
			&["model", "outcome"],
		)?;
		let tokens = IntCounter::new("tokens_total", "Output tokens generated")?;
		let inference = HistogramVec::new(
			HistogramOpts::new("inference_seconds", "Inference latency")
				.buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]),
			&["model"],
		)?;
		let receipt = Histogram::with_opts(
			HistogramOpts::new("receipt_seconds", "Receipt signing, submission and finalization")
				.buckets(vec![0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0]),
		)?;
		let queue_depth = IntGauge::new("queue_depth", "Jobs waiting or running")?;
		registry.register(Box::new(jobs.clone()))?;
		registry.register(Box::new(tokens.clone()))?;
		registry.register(Box::new(inference.clone()))?;
		registry.register(Box::new(receipt.clone()))?;
		let inputs_missing =
			IntCounter::new("inputs_missing_total", "By-hash inputs never delivered, reported missing")?;
		registry.register(Box::new(queue_depth.clone()))?;
		registry.register(Box::new(inputs_missing.clone()))?;
		Ok(Self { registry, jobs, tokens, inference, receipt, queue_depth, inputs_missing })
	}

	/// The text exposition format.
	pub fn render(&self) -> String {
		let mut buf = vec![];
		let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
		String::from_utf8(buf).unwrap_or_default()
	}
}
