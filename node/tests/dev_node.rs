//! End-to-end: a real `agora-node --dev` produces and finalizes blocks, accepts a
//! signed balance transfer over JSON-RPC, refuses garbage, and serves
//! Prometheus; its state passes `agora try-state` afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use agora_runtime::{
	AccountId, Balance, BalancesCall, Nonce, Runtime, RuntimeCall, SignedPayload, TxExtension,
	UncheckedExtrinsic, VERSION,
};
use codec::{Decode, Encode};
use common::{from_hex, to_hex, Node, Rpc};
use serde_json::json;
use sp_keyring::Sr25519Keyring;
use sp_runtime::generic::Era;

type AccountInfo = frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>;

fn account(rpc: &Rpc, who: &AccountId, at: Option<&str>) -> AccountInfo {
	let key = frame_system::Account::<Runtime>::hashed_key_for(who);
	let params = match at {
		Some(h) => json!([to_hex(&key), h]),
		None => json!([to_hex(&key)]),
	};
	match rpc.call("state_getStorage", params).unwrap().as_str() {
		Some(hex) => AccountInfo::decode(&mut &from_hex(hex)[..]).unwrap(),
		None => AccountInfo::default(),
	}
}

/// A `transfer_keep_alive` signed by `from`, as any wallet would build it.
fn signed_transfer(
	from: Sr25519Keyring,
	to: AccountId,
	value: Balance,
	nonce: Nonce,
	genesis: sp_core::H256,
) -> UncheckedExtrinsic {
	let call = RuntimeCall::Balances(BalancesCall::transfer_keep_alive { dest: to.into(), value });
	let tx_ext: TxExtension = (
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
	);
	let payload = SignedPayload::from_raw(
		call.clone(),
		tx_ext.clone(),
		((), VERSION.spec_version, VERSION.transaction_version, genesis, genesis, (), (), ()),
	);
	let signature = payload.using_encoded(|p| from.sign(p));
	UncheckedExtrinsic::new_signed(call, from.to_account_id().into(), signature.into(), tx_ext)
}

#[test]
fn dev_node_finalizes_transfers_and_survives_garbage() {
	let node = Node::dev();
	node.wait_finalized(3, Duration::from_secs(120));
	let rpc = node.rpc();

	// Chain identity, as Polkadot.js reads it.
	let props = rpc.call("system_properties", json!([])).unwrap();
	assert_eq!(props["tokenSymbol"], "AGR");
	assert_eq!(props["tokenDecimals"], 12);
	assert_eq!(props["ss58Format"], agora_runtime::SS58_PREFIX);

	// A balance transfer from Alice to a fresh account.
	let genesis_hex = rpc.call("chain_getBlockHash", json!([0])).unwrap();
	let genesis = sp_core::H256::from_slice(&from_hex(genesis_hex.as_str().unwrap()));
	let alice = Sr25519Keyring::Alice.to_account_id();
	let dest: AccountId = sp_core::crypto::AccountId32::new(sp_io::hashing::blake2_256(b"agora-e2e-dest"));
	let value: Balance = 42 * agora_runtime::AGR;
	let before_alice = account(&rpc, &alice, None);
	assert_eq!(account(&rpc, &dest, None).data.free, 0);

	let xt = signed_transfer(Sr25519Keyring::Alice, dest.clone(), value, before_alice.nonce, genesis);
	let tx_hash = rpc.call("author_submitExtrinsic", json!([to_hex(&xt.encode())]));
	assert!(tx_hash.is_ok(), "submit failed: {tx_hash:?}\n{}", node.log_tail());

	let start = Instant::now();
	let after = loop {
		let fin = rpc.finalized_head().unwrap();
		let d = account(&rpc, &dest, Some(&fin));
		if d.data.free > 0 {
			break (d, account(&rpc, &alice, Some(&fin)));
		}
		assert!(start.elapsed() < Duration::from_secs(90), "transfer not finalized\n{}", node.log_tail());
		std::thread::sleep(Duration::from_millis(500));
	};
	assert_eq!(after.0.data.free, value, "recipient got exactly the amount");
	assert_eq!(after.1.nonce, before_alice.nonce + 1);
	let spent = before_alice.data.free - after.1.data.free;
	assert!(spent > value, "Alice paid the amount plus a fee (spent {spent})");
	assert!(spent < value + agora_runtime::AGR, "the fee is small (spent {spent})");

	// Garbage over RPC is an RPC error, not a crash.
	let garbage = rpc.call("author_submitExtrinsic", json!(["0xdeadbeef"]));
	let err = garbage.expect_err("garbage must be refused");
	assert!(err["code"].is_i64(), "a JSON-RPC error object: {err}");
	let not_hex = rpc.call("author_submitExtrinsic", json!(["not hex"]));
	assert!(not_hex.is_err());
	// A well-formed transfer whose signature is not the sender's is refused too:
	// Bob signs, but the extrinsic claims Alice sent it.
	let by_bob = signed_transfer(Sr25519Keyring::Bob, dest.clone(), 1, 0, genesis);
	let forged = match by_bob.preamble {
		sp_runtime::generic::Preamble::Signed(_, sig, ext) => UncheckedExtrinsic::new_signed(
			by_bob.function.clone(),
			alice.clone().into(),
			sig,
			ext,
		),
		_ => unreachable!("signed_transfer builds a signed extrinsic"),
	};
	let err = rpc.call("author_submitExtrinsic", json!([to_hex(&forged.encode())]));
	assert!(err.is_err(), "bad signature accepted: {err:?}");

	// ...and the node keeps producing and finalizing blocks.
	let f = rpc.finalized_number().unwrap();
	node.wait_finalized(f + 2, Duration::from_secs(60));

	// Prometheus metrics are served.
	let metrics = ureq::get(&format!("http://127.0.0.1:{}/metrics", node.prometheus_port))
		.call()
		.unwrap()
		.into_string()
		.unwrap();
	assert!(metrics.contains("substrate_block_height"), "prometheus exposes block height");
	// A validator without a verifier says so, in its metrics and its log.
	let gauge = |name: &str| {
		metrics.lines().find(|l| l.starts_with(&format!("{name}{{"))).map(|l| l.rsplit(' ').next().unwrap().to_string())
	};
	assert_eq!(gauge("agora_verifier_configured").as_deref(), Some("0"), "{metrics}");
	assert_eq!(gauge("agora_verifier_up").as_deref(), Some("0"), "{metrics}");
	assert!(node.log_all().contains("runs without --agora-verifier"), "{}", node.log_tail());

	// The invariants hold after all that: every pallet's try_state, and the
	// issuance (the fee burnt or paid out, the transfer moved) still adds up.
	let state = common::assert_try_state(&format!("ws://127.0.0.1:{}", node.rpc_port));
	assert!(state["accounts"].as_u64().unwrap() > 0, "{state}");
	node.stop();
}
