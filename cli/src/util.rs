//! Helpers the command groups share.
use agora_client::{
	chain::{self, Client},
	cli::KeyArgs,
};
use subxt::utils::AccountId32;

/// Writes one line of output (see `outln!`). A closed stdout ends the
/// process with status 0; any other write error is a panic, as `outln!`'s.
pub fn out_line(args: std::fmt::Arguments<'_>) {
	use std::io::Write;
	let mut out = std::io::stdout().lock();
	match out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
		Ok(()) => {},
		Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
		Err(e) => {
			eprintln!("Error: writing the output: {e}");
			std::process::exit(1)
		},
	}
}

pub fn ss58(a: &str) -> anyhow::Result<AccountId32> {
	a.parse().map_err(|e| anyhow::anyhow!("`{a}` is not an SS58 address: {e:?}"))
}

pub fn hex_arg(s: &str, what: &str) -> anyhow::Result<Vec<u8>> {
	hex::decode(s.trim_start_matches("0x")).map_err(|e| anyhow::anyhow!("{what} is not hex: {e}"))
}

/// Signs and submits `call`, waits for it to be final, prints `{what}: done`.
pub async fn simple_tx<C: subxt::transactions::Payload>(
	client: &Client,
	call: C,
	key: &KeyArgs,
	what: &str,
) -> anyhow::Result<()> {
	chain::submit_final(client, &call, &key.keypair()?, what).await?;
	outln!("{what}: done");
	Ok(())
}

/// [`simple_tx`] for a provider's account, whose worker may be submitting at
/// the same time: the nonce comes after the node's pool (`url`'s
/// `system_accountNextIndex`).
pub async fn provider_tx<C: subxt::transactions::Payload>(
	client: &Client,
	url: &str,
	call: C,
	key: &KeyArgs,
	what: &str,
) -> anyhow::Result<()> {
	chain::submit_final_after_pool(client, &rpc_client(url).await?, &call, &key.keypair()?, what).await?;
	outln!("{what}: done");
	Ok(())
}

/// A JSON-RPC connection to the node at `url`, for several calls.
pub async fn rpc_client(url: &str) -> anyhow::Result<subxt::rpcs::RpcClient> {
	subxt::rpcs::RpcClient::from_insecure_url(url)
		.await
		.map_err(|e| anyhow::anyhow!("cannot connect to {url}: {e}"))
}

/// One call on an open connection.
pub async fn rpc_on<T: serde::de::DeserializeOwned>(
	rpc: &subxt::rpcs::RpcClient,
	method: &str,
	params: subxt::rpcs::client::RpcParams,
) -> anyhow::Result<T> {
	rpc.request(method, params).await.map_err(|e| anyhow::anyhow!("{method}: {e}"))
}

/// One JSON-RPC call to the node at `url`.
pub async fn rpc<T: serde::de::DeserializeOwned>(
	url: &str,
	method: &str,
	params: subxt::rpcs::client::RpcParams,
) -> anyhow::Result<T> {
	rpc_on(&rpc_client(url).await?, method, params).await
}
