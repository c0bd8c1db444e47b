//! Chain specifications, built from the runtime's genesis presets.
//!
//! The checked-in files in `chain-specs/` are exported from these by
//! `scripts/gen-chain-specs.sh`.

use agora_runtime_wasm::WASM_BINARY;
use sc_service::ChainType;

/// Agora's chain spec (no extensions).
pub type ChainSpec = sc_service::GenericChainSpec;

/// The chain's properties, as Polkadot.js and subxt read them: token symbol,
/// decimals and SS58 prefix.
pub fn properties() -> sc_service::Properties {
	let mut p = sc_service::Properties::new();
	p.insert("tokenSymbol".into(), agora_runtime::TOKEN_SYMBOL.into());
	p.insert("tokenDecimals".into(), agora_runtime::TOKEN_DECIMALS.into());
	p.insert("ss58Format".into(), agora_runtime::SS58_PREFIX.into());
	p
}

fn wasm() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| "the runtime wasm is not built (was SKIP_WASM_BUILD set?)".into())
}

/// `dev`: Alice validates alone; sudo exists here only.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, Default::default())
		.with_name("Agora Development")
		.with_id("agora_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder_preset::DEV)
		.with_properties(properties())
		.build())
}

/// `local`: Alice, Bob, Charlie and Dave validate on loopback.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, Default::default())
		.with_name("Agora Local Testnet")
		.with_id("agora_local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder_preset::LOCAL)
		.with_properties(properties())
		.build())
}

/// `testnet`: the public test network (four validators with their own keys,
/// realistic epochs and referendum periods, no sudo).
pub fn testnet_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, Default::default())
		.with_name("Agora Testnet")
		.with_id("agora_testnet")
		.with_chain_type(ChainType::Live)
		.with_protocol_id("agora-testnet")
		.with_genesis_config_preset_name(sp_genesis_builder_preset::TESTNET)
		.with_properties(properties())
		.build())
}

/// Preset names (the runtime's `sp_genesis_builder` constants).
mod sp_genesis_builder_preset {
	pub const DEV: &str = "development";
	pub const LOCAL: &str = "local_testnet";
	pub const TESTNET: &str = agora_runtime::genesis_config_presets::TESTNET_PRESET;
}

/// Loads a chain spec from a JSON file, with an error that names the file.
pub fn from_file(path: &std::path::Path) -> Result<ChainSpec, String> {
	ChainSpec::from_json_file(path.to_path_buf()).map_err(|e| {
		let e = e.replace('\n', " ");
		format!("invalid chain spec file {}: {e}", path.display())
	})
}
