//! Makes a validator's missing or unreachable verifier visible.
//!
//! A validator's committee seats vote only through its local verifier
//! (`--agora-verifier`, docs/protocol.md §6). Without one, every seat it is drawn
//! for misses its vote, earns a strike and, after three, an offence. The node
//! says so: a warning at start when a validator runs without a verifier, a
//! probe of the verifier's `/health` every 30 s (a warning when it goes down,
//! a note when it comes back), and two Prometheus gauges:
//! `agora_verifier_configured` (0/1) and `agora_verifier_up` (0/1, the last probe).
use sc_service::TaskManager;
use substrate_prometheus_endpoint::{register, Gauge, Registry, U64};

const PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Starts the watch (validators only).
pub fn spawn(task_manager: &TaskManager, url: Option<String>, registry: Option<&Registry>, is_authority: bool) {
	if !is_authority {
		return;
	}
	let gauge = |name: &str, help: &str| -> Option<Gauge<U64>> {
		let r = registry?;
		Gauge::new(name, help).ok().and_then(|g| register(g, r).ok())
	};
	let configured = gauge("agora_verifier_configured", "Whether this validator was started with --agora-verifier");
	let up = gauge("agora_verifier_up", "Whether the last probe of the local verifier's /health succeeded");
	let Some(url) = url else {
		if let Some(g) = &configured {
			g.set(0);
		}
		if let Some(g) = &up {
			g.set(0);
		}
		log::warn!(
			target: "agora",
			"this validator runs without --agora-verifier: its audit committee seats cannot vote, \
			 each missed vote is a strike and three strikes are an offence (docs/operators.md)"
		);
		return;
	};
	if let Some(g) = &configured {
		g.set(1);
	}
	let health = format!("{}/health", url.trim_end_matches('/'));
	// An async task that sleeps on a timer, so the node's shutdown can drop it
	// at once; only the probe itself (a blocking HTTP call) runs on a blocking thread.
	task_manager.spawn_handle().spawn("agora-verifier-watch", None, async move {
		let agent = ureq::AgentBuilder::new().timeout(std::time::Duration::from_secs(5)).build();
		let mut was_up: Option<bool> = None;
		loop {
			let (a, h) = (agent.clone(), health.clone());
			let result = tokio::task::spawn_blocking(move || a.get(&h).call().map(|_| ()).map_err(|e| e.to_string()))
				.await
				.unwrap_or_else(|e| Err(e.to_string()));
			let ok = result.is_ok();
			if let Some(g) = &up {
				g.set(u64::from(ok));
			}
			match (was_up, &result) {
				(Some(true) | None, Err(e)) => log::warn!(
					target: "agora",
					"the verifier at {health} does not answer ({e}): audit votes will fail until it does"
				),
				(Some(false), Ok(())) => log::info!(target: "agora", "the verifier at {health} answers again"),
				_ => {},
			}
			was_up = Some(ok);
			tokio::time::sleep(PROBE_EVERY).await;
		}
	});
}
