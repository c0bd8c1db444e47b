//! Helpers for the worker's end-to-end tests: a real `agora-node`, a real
//! `agora-worker` and the `agora` client, as processes.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod net;

use serde_json::Value;
use std::{
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

/// The `agora-node` binary: `$AGORA_NODE`, or the one `cargo build` put beside these tests.
pub fn node_bin() -> PathBuf {
	if let Some(p) = std::env::var_os("AGORA_NODE") {
		return p.into();
	}
	let exe = std::env::current_exe().unwrap();
	let debug = exe.parent().unwrap().parent().unwrap();
	let bin = debug.join("agora-node");
	assert!(bin.exists(), "{} is missing: run `cargo build -p agora-node` first", bin.display());
	bin
}

/// The `agora` client binary (crate `agora-cli`): `$AGORA_CLIENT`, or the one
/// `cargo test --workspace` built beside these tests.
pub fn client_bin() -> PathBuf {
	if let Some(p) = std::env::var_os("AGORA_CLIENT") {
		return p.into();
	}
	let exe = std::env::current_exe().unwrap();
	let bin = exe.parent().unwrap().parent().unwrap().join("agora");
	assert!(bin.exists(), "{} is missing: run `cargo build -p agora-cli` first", bin.display());
	bin
}

/// The throughput benchmark's load generator (`agora-load`, crate
/// `agora-cli`), built beside these tests like `agora`.
pub fn load_bin() -> PathBuf {
	client_bin().with_file_name("agora-load")
}

pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn tail(path: &Path, n: usize) -> String {
	let s = std::fs::read_to_string(path).unwrap_or_default();
	let lines: Vec<&str> = s.lines().collect();
	lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A dev node with its own base path (so it can be killed and restarted on the
/// same chain and ports).
pub struct Node {
	child: Option<Child>,
	pub rpc_port: u16,
	p2p_port: u16,
	pub dir: tempfile::TempDir,
	starts: u32,
	/// A chain spec file instead of the node's built-in `dev` chain.
	chain: Option<PathBuf>,
}

impl Node {
	pub fn start() -> Node {
		Self::start_on(None)
	}

	/// A single-validator node (Alice's keys, authoring alone, as `--dev`) on
	/// the chain of `spec`: e.g. a dev chain spec of an earlier release, whose
	/// genesis carries that release's runtime.
	pub fn start_chain(spec: &Path) -> Node {
		Self::start_on(Some(spec.to_path_buf()))
	}

	fn start_on(chain: Option<PathBuf>) -> Node {
		let mut n = Node {
			child: None,
			rpc_port: free_port(),
			p2p_port: free_port(),
			dir: tempfile::tempdir().unwrap(),
			starts: 0,
			chain,
		};
		n.spawn();
		n
	}

	/// A JSON-RPC call to this node ([`rpc`]), panicking on an error.
	pub fn rpc(&self, method: &str, params: Value) -> Value {
		rpc(self.rpc_port, method, params).unwrap_or_else(|e| panic!("{method}: {e}"))
	}

	fn spawn(&mut self) {
		self.starts += 1;
		let log = std::fs::File::create(self.dir.path().join(format!("node-{}.log", self.starts)))
			.unwrap();
		let mut cmd = Command::new(node_bin());
		match &self.chain {
			None => cmd.arg("--dev"),
			// (The node key is generated in the base path on the first start and
			// kept for restarts, as `--dev` does.)
			Some(spec) => cmd.arg("--chain").arg(spec).args([
				"--alice",
				"--force-authoring",
				"--rpc-cors",
				"all",
				"--unsafe-force-node-key-generation",
			]),
		};
		let child = cmd
			.arg("--base-path")
			.arg(self.dir.path().join("chain"))
			.args(["--rpc-port", &self.rpc_port.to_string(), "--port", &self.p2p_port.to_string()])
			.args(["--no-prometheus", "--no-telemetry", "--no-mdns"])
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.expect("agora-node starts");
		self.child = Some(child);
		self.rpc_port = self.listening_rpc_port();
	}

	/// The port the node's JSON-RPC server took, from its log. It is the one
	/// asked for unless that was taken when the node bound it (another test's
	/// connection can hold a port between `free_port` and the bind): the node
	/// then takes a random one (`sc-cli` retries a random port) and says so only
	/// in its log. Reading the log spares the test a client talking to another
	/// process for minutes ("node never came up" in a cold CI run).
	fn listening_rpc_port(&mut self) -> u16 {
		const LINE: &str = "Running JSON-RPC server: addr=";
		let log = self.dir.path().join(format!("node-{}.log", self.starts));
		let t0 = Instant::now();
		loop {
			let text = std::fs::read_to_string(&log).unwrap_or_default();
			if let Some(at) = text.find(LINE) {
				let addr = text[at + LINE.len()..].split([',', ' ', '\n']).next().unwrap_or("");
				if let Some(port) = addr.rsplit(':').next().and_then(|p| p.parse().ok()) {
					return port;
				}
			}
			if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
				panic!("agora-node exited ({status}) before serving RPC:\n{}", self.log_tail());
			}
			assert!(
				t0.elapsed() < Duration::from_secs(240),
				"agora-node never opened its RPC server:\n{}",
				self.log_tail()
			);
			std::thread::sleep(Duration::from_millis(200));
		}
	}

	pub fn url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.rpc_port)
	}

	/// SIGKILL: no clean shutdown.
	pub fn kill(&mut self) {
		if let Some(mut c) = self.child.take() {
			let _ = c.kill();
			let _ = c.wait();
		}
	}

	pub fn restart(&mut self) {
		self.kill();
		self.spawn();
	}

	pub fn log_tail(&self) -> String {
		tail(&self.dir.path().join(format!("node-{}.log", self.starts)), 30)
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		self.kill();
	}
}

/// An `agora-worker serve`: Bob's (the dev genesis provider), or another
/// provider's.
pub struct Worker {
	child: Option<Child>,
	pub port: u16,
	pub data: tempfile::TempDir,
	url: String,
	pub starts: u32,
	suri: String,
	extra: Vec<String>,
}

impl Worker {
	pub fn start(node: &Node) -> Worker {
		Self::start_with(node, &[])
	}

	/// A worker with more `serve` flags.
	pub fn start_with(node: &Node, extra: &[&str]) -> Worker {
		Self::start_as(node, "//Bob", extra)
	}

	/// The worker of provider `suri` (bonded already), with more `serve` flags.
	pub fn start_as(node: &Node, suri: &str, extra: &[&str]) -> Worker {
		let mut w = Worker {
			child: None,
			port: free_port(),
			data: tempfile::tempdir().unwrap(),
			url: node.url(),
			starts: 0,
			suri: suri.to_string(),
			extra: extra.iter().map(|s| s.to_string()).collect(),
		};
		w.spawn();
		w
	}

	pub fn log_path(&self, start: u32) -> PathBuf {
		self.data.path().join(format!("worker-{start}.log"))
	}

	fn spawn(&mut self) {
		self.starts += 1;
		let log = std::fs::File::create(self.log_path(self.starts)).unwrap();
		let child = Command::new(env!("CARGO_BIN_EXE_agora-worker"))
			.args(["serve", "--url", &self.url, "--suri", &self.suri, "--no-progress"])
			.arg("--data-dir")
			.arg(self.data.path().join("state"))
			.args(["--listen", &format!("127.0.0.1:{}", self.port)])
			.args(["--endpoint", &format!("http://127.0.0.1:{}", self.port)])
			.args(&self.extra)
			.env("RUST_LOG", "info")
			.env("NO_COLOR", "1")
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.expect("agora-worker starts");
		self.child = Some(child);
		self.wait_log("serving", Duration::from_secs(120));
	}

	/// The current run's log.
	pub fn log(&self) -> String {
		std::fs::read_to_string(self.log_path(self.starts)).unwrap_or_default()
	}

	/// Waits until the current run's log contains `needle`.
	pub fn wait_log(&self, needle: &str, timeout: Duration) {
		let t0 = Instant::now();
		loop {
			let log = self.log();
			if log.contains(needle) {
				return;
			}
			assert!(
				t0.elapsed() < timeout,
				"worker never logged `{needle}`:\n{}",
				tail(&self.log_path(self.starts), 40)
			);
			if let Some(c) = self.child.as_ref() {
				let _ = c.id();
			}
			std::thread::sleep(Duration::from_millis(100));
		}
	}

	pub fn kill(&mut self) {
		if let Some(mut c) = self.child.take() {
			let _ = c.kill();
			let _ = c.wait();
		}
	}

	pub fn restart(&mut self) {
		self.kill();
		self.spawn();
	}

	/// Restarts with other `serve` flags (the same data directory and port).
	pub fn restart_with(&mut self, extra: &[&str]) {
		self.extra = extra.iter().map(|s| s.to_string()).collect();
		self.restart();
	}
}

impl Drop for Worker {
	fn drop(&mut self) {
		self.kill();
	}
}

/// A JSON-RPC call over HTTP to the node on `port` (a node serves HTTP and
/// WebSocket on one port): its `result`, or why there is none (no answer, an
/// error object).
pub fn rpc(port: u16, method: &str, params: Value) -> Result<Value, String> {
	let body = serde_json::json!({"id": 1, "jsonrpc": "2.0", "method": method, "params": params});
	let out = Command::new("curl")
		.args(["-s", "-m", "10", "-H", "Content-Type: application/json", "-d"])
		.arg(body.to_string())
		.arg(format!("http://127.0.0.1:{port}"))
		.output()
		.map_err(|e| e.to_string())?;
	let v: Value = serde_json::from_slice(&out.stdout)
		.map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&out.stdout)))?;
	match v.get("error") {
		Some(e) => Err(e.to_string()),
		None => Ok(v["result"].clone()),
	}
}

/// The last finalized block number of the node on `port`.
pub fn finalized_number(port: u16) -> Result<u64, String> {
	let head = rpc(port, "chain_getFinalizedHead", serde_json::json!([]))?;
	let header = rpc(port, "chain_getHeader", serde_json::json!([head]))?;
	let n = header["number"].as_str().ok_or("a header without a number")?;
	u64::from_str_radix(n.trim_start_matches("0x"), 16).map_err(|e| e.to_string())
}

/// The runtime wasm this build made (the one the node's built-in chains run).
pub fn runtime_wasm() -> Vec<u8> {
	let wbuild = node_bin().parent().unwrap().join("wbuild/agora-runtime/agora_runtime.wasm");
	std::fs::read(&wbuild).unwrap_or_else(|e| panic!("{}: {e}", wbuild.display()))
}

/// `wasm` compressed as the node ships its runtime (a 5 MB `set_code` call
/// would not fit in a block), written to `dir/upgrade.wasm`.
pub fn compressed_wasm(wasm: &[u8], dir: &Path) -> PathBuf {
	let blob = sp_maybe_compressed_blob::compress_strongly(wasm, 64 << 20).unwrap();
	let out = dir.join("upgrade.wasm");
	std::fs::write(&out, &blob).unwrap();
	out
}

/// Runs the `agora` client; returns (success, stdout, stderr).
pub fn agora(url: &str, args: &[&str]) -> (bool, String, String) {
	let out = Command::new(client_bin())
		.args(["--url", url])
		.args(args)
		.env("NO_COLOR", "1")
		.output()
		.expect("agora runs");
	(
		out.status.success(),
		String::from_utf8_lossy(&out.stdout).into_owned(),
		String::from_utf8_lossy(&out.stderr).into_owned(),
	)
}

/// Runs `agora --json …`, expects success, returns its JSON lines.
pub fn agora_json(url: &str, args: &[&str]) -> Vec<Value> {
	let mut full = vec!["--json"];
	full.extend_from_slice(args);
	let (ok, out, err) = agora(url, &full);
	assert!(ok, "agora {args:?} failed:\n{err}\n{out}");
	out.lines()
		.filter(|l| l.starts_with('{') || l.starts_with('['))
		.map(|l| serde_json::from_str(l).unwrap())
		.collect()
}

/// Waits until the node answers (the client can list models). Up to 4 minutes:
/// the suite runs tests side by side (scripts/test.sh), and a debug node that
/// starts while other networks start too needs far longer than its ~4 s alone;
/// the limit only catches a node that never comes up.
pub fn wait_ready(node: &Node) {
	let t0 = Instant::now();
	loop {
		let (ok, _, _) = agora(&node.url(), &["model", "list"]);
		if ok {
			return;
		}
		assert!(t0.elapsed() < Duration::from_secs(240), "node never came up:\n{}", node.log_tail());
		std::thread::sleep(Duration::from_millis(500));
	}
}

pub fn planck(v: &Value) -> u128 {
	v.as_str().unwrap().parse().unwrap()
}

pub const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

/// Bob's free balance and the finalized block it was read at.
pub fn bob_free(node: &Node) -> (u128, u64) {
	let v = agora_json(&node.url(), &["balance", BOB]);
	(planck(&v[0]["free"]), v[0]["block"].as_u64().unwrap())
}

/// Runs every pallet's `try_state` invariants on the chain behind `url`: the
/// last finalized block is re-executed on its parent's state, then each
/// pallet's checks run (`agora try-state`; the test build's runtime has the
/// TryRuntime API), and at that block the total issuance must equal Σ (free +
/// reserved) over all accounts. The end-to-end tests call this when they are
/// done.
pub fn assert_try_state(url: &str) {
	let v = agora_json(url, &["try-state"]);
	assert_eq!(v.first().map(|v| v["ok"].clone()), Some(Value::Bool(true)), "{v:?}");
}

/// Bob's provider bond (active), as `agora provider list` shows it.
pub fn bob_stake(url: &str) -> u128 {
	provider_stake(url, "SmolLM2-135M-Instruct", BOB).unwrap_or_else(|| panic!("Bob has no offer"))
}

/// A provider's bond (active), as `agora provider list --model …` shows it
/// beside its offer of `model`; `None` if it has no offer of that model.
pub fn provider_stake(url: &str, model: &str, who: &str) -> Option<u128> {
	let list = agora_json(url, &["provider", "list", "--model", model, "--sort", "stake"]);
	let parse = |s: &str| s.parse::<subxt::utils::AccountId32>().ok();
	let row = list[0].as_array()?.iter().find(|r| parse(r["provider"].as_str().unwrap_or_default()) == parse(who))?;
	Some(planck(&row["stake"]))
}
