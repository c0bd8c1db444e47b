//! The runtime fuzzer in the suite (`scripts/test.sh`): seeded random call
//! sequences across real blocks from the development and local-testnet
//! genesis, every invariant after every block (`agora_runtime_fuzz`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use agora_runtime_fuzz::{env_u64, run_for};

/// 60 s by default (`AGORA_FUZZ_SECS`, 0 for one seed; `AGORA_FUZZ_SEED` is
/// the first seed, `AGORA_FUZZ_BLOCKS` the blocks per seed). It must break no invariant, and
/// must reach the deep states (receipts, finalizations, disputes, votes,
/// verdicts), so that a harness that only ever hits errors cannot pass.
#[test]
fn random_calls_across_blocks_break_no_invariant() {
	let secs = env_u64("AGORA_FUZZ_SECS", 60);
	let first = env_u64("AGORA_FUZZ_SEED", 0);
	let blocks = env_u64("AGORA_FUZZ_BLOCKS", 240) as u32;
	let stats = run_for(first, secs, blocks, 24);
	println!("fuzz from seed {first} for {secs} s:\n{}", stats.report());
	if secs == 0 {
		return; // one seed, rerun to look at it: no coverage to ask of it
	}
	for event in [
		"Jobs.JobAssigned",
		"Jobs.JobAcknowledged",
		"Jobs.JobReceipted",
		"Jobs.JobFinalized",
		"Jobs.JobCancelled",
		"Jobs.JobRated",
		"Verification.Disputed",
		"Verification.Voted",
	] {
		assert!(stats.event(event) > 0, "the fuzzer never reached {event}:\n{}", stats.report());
	}
}
