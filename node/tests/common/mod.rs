//! Helpers for the node's end-to-end tests: free ports, a node process that is
//! killed on drop, and a small blocking JSON-RPC client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
	io::Read,
	net::TcpListener,
	path::PathBuf,
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use serde_json::{json, Value};

/// The `agora-node` binary cargo built for these tests.
pub fn node_bin() -> PathBuf {
	PathBuf::from(env!("CARGO_BIN_EXE_agora-node"))
}

/// The `agora` CLI beside the node (`cargo test --workspace` builds it; this
/// crate does not depend on the client).
pub fn client_bin() -> PathBuf {
	let bin = node_bin().with_file_name("agora");
	assert!(bin.exists(), "{} is missing: run `cargo build -p agora-cli` first", bin.display());
	bin
}

/// `agora try-state` against the node at `ws_url`: re-executes its last finalized block
/// with every pallet's `try_state` (a `try-runtime` node, as the test suite
/// builds it), then checks that the total issuance equals Σ free + reserved
/// over all accounts. Returns the CLI's JSON line.
pub fn assert_try_state(ws_url: &str) -> Value {
	let out = Command::new(client_bin()).args(["--url", ws_url, "--json", "try-state"]).output().unwrap();
	let stdout = String::from_utf8_lossy(&out.stdout);
	assert!(out.status.success(), "agora try-state failed:\n{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
	let v: Value = serde_json::from_str(stdout.lines().next().unwrap_or_default()).unwrap();
	assert_eq!(v["ok"], true, "{v}");
	v
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `agora-node`, killed when dropped. Its output goes to a log file
/// that is printed when a test fails.
pub struct Node {
	child: Child,
	pub rpc_port: u16,
	pub prometheus_port: u16,
	pub log: PathBuf,
	_dir: tempfile::TempDir,
}

impl Node {
	/// Starts `agora-node --dev --tmp` on free ports.
	pub fn dev() -> Node {
		Self::start(&["--dev", "--tmp"])
	}

	pub fn start(args: &[&str]) -> Node {
		let dir = tempfile::tempdir().unwrap();
		let log = dir.path().join("node.log");
		let rpc_port = free_port();
		let prometheus_port = free_port();
		let p2p_port = free_port();
		let out = std::fs::File::create(&log).unwrap();
		let child = Command::new(node_bin())
			.args(args)
			.args([
				"--rpc-port",
				&rpc_port.to_string(),
				"--prometheus-port",
				&prometheus_port.to_string(),
				"--port",
				&p2p_port.to_string(),
				"--no-telemetry",
				"--no-mdns",
			])
			.stdout(Stdio::null())
			.stderr(out)
			.spawn()
			.expect("agora-node starts");
		let mut node = Node { child, rpc_port, prometheus_port, log, _dir: dir };
		node.rpc_port = node.listening_rpc_port();
		node
	}

	/// The port the JSON-RPC server took, from the log: the one asked for
	/// unless another process held it when the node bound it (a connection can
	/// take a port between `free_port` and the bind); the node then takes a
	/// random one (`sc-cli` retries a random port) and says so only in its log.
	fn listening_rpc_port(&mut self) -> u16 {
		const LINE: &str = "Running JSON-RPC server: addr=";
		let start = Instant::now();
		loop {
			let text = std::fs::read_to_string(&self.log).unwrap_or_default();
			if let Some(at) = text.find(LINE) {
				let addr = text[at + LINE.len()..].split([',', ' ', '\n']).next().unwrap_or("");
				if let Some(port) = addr.rsplit(':').next().and_then(|p| p.parse().ok()) {
					return port;
				}
			}
			if let Ok(Some(status)) = self.child.try_wait() {
				panic!("agora-node exited ({status}) before serving RPC:\n{}", self.log_tail());
			}
			assert!(
				start.elapsed() < Duration::from_secs(240),
				"agora-node never opened its RPC server:\n{}",
				self.log_tail()
			);
			std::thread::sleep(Duration::from_millis(200));
		}
	}

	pub fn rpc(&self) -> Rpc {
		Rpc { url: format!("http://127.0.0.1:{}", self.rpc_port) }
	}

	/// The node's whole log.
	#[allow(dead_code)] // not every test binary reads it
	pub fn log_all(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// The last lines of the node's log, for failure messages.
	pub fn log_tail(&self) -> String {
		let mut s = String::new();
		if let Ok(mut f) = std::fs::File::open(&self.log) {
			let _ = f.read_to_string(&mut s);
		}
		let lines: Vec<&str> = s.lines().collect();
		lines[lines.len().saturating_sub(40)..].join("\n")
	}

	/// Waits until the node has finalized block `n`; panics with the log after `timeout`.
	pub fn wait_finalized(&self, n: u64, timeout: Duration) -> u64 {
		let start = Instant::now();
		loop {
			if let Ok(f) = self.rpc().finalized_number() {
				if f >= n {
					return f;
				}
			}
			if start.elapsed() > timeout {
				panic!("node did not finalize block {n} within {timeout:?}; log:\n{}", self.log_tail());
			}
			std::thread::sleep(Duration::from_millis(500));
		}
	}

	/// Stops the node with SIGTERM (so it shuts down cleanly), then SIGKILL.
	pub fn stop(mut self) {
		let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
		let start = Instant::now();
		while start.elapsed() < Duration::from_secs(20) {
			if let Ok(Some(_)) = self.child.try_wait() {
				return;
			}
			std::thread::sleep(Duration::from_millis(200));
		}
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// A blocking JSON-RPC client over HTTP.
pub struct Rpc {
	pub url: String,
}

impl Rpc {
	/// Calls `method`; `Ok(result)` or `Err(error object)`.
	pub fn call(&self, method: &str, params: Value) -> Result<Value, Value> {
		let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
		let resp = ureq::post(&self.url)
			.timeout(Duration::from_secs(10))
			.send_json(body)
			.map_err(|e| json!({"transport": e.to_string()}))?;
		let v: Value = resp.into_json().map_err(|e| json!({"decode": e.to_string()}))?;
		match v.get("error") {
			Some(e) => Err(e.clone()),
			None => Ok(v["result"].clone()),
		}
	}

	pub fn header_number(&self, hash: Option<&str>) -> Result<u64, Value> {
		let params = match hash {
			Some(h) => json!([h]),
			None => json!([]),
		};
		let header = self.call("chain_getHeader", params)?;
		let n = header["number"].as_str().ok_or_else(|| json!("no number"))?;
		u64::from_str_radix(n.trim_start_matches("0x"), 16).map_err(|e| json!(e.to_string()))
	}

	pub fn finalized_head(&self) -> Result<String, Value> {
		Ok(self.call("chain_getFinalizedHead", json!([]))?.as_str().unwrap_or_default().to_string())
	}

	pub fn finalized_number(&self) -> Result<u64, Value> {
		let h = self.finalized_head()?;
		self.header_number(Some(&h))
	}

	pub fn best_number(&self) -> Result<u64, Value> {
		self.header_number(None)
	}
}

/// Decodes a `0x…` hex string.
pub fn from_hex(s: &str) -> Vec<u8> {
	let s = s.trim_start_matches("0x");
	(0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// Encodes bytes as a `0x…` hex string.
pub fn to_hex(b: &[u8]) -> String {
	let mut s = String::from("0x");
	for x in b {
		s.push_str(&format!("{x:02x}"));
	}
	s
}
