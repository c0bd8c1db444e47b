//! `agora job dispute`: bond `DISPUTE_BOND` against a receipt and, with
//! `--wait`, follow the committee's check to its verdict.
use agora_client::{
	chain::{self, runtime, Client},
	cli::KeyArgs,
};

/// Disputes job `id`'s receipt; with `wait`, prints its committee and each
/// vote as they come, then the verdict (fraud, upheld, or none after every
/// re-draw).
pub(super) async fn dispute(
	client: &Client,
	key: &KeyArgs,
	id: u64,
	wait: bool,
	json: bool,
) -> anyhow::Result<()> {
	use runtime::verification::events::{
		AuditPassed, AuditStarted, AuditTimedOut, Disputed, JobFraud, Voted,
	};
	// Follow finalized blocks from before the dispute, so no event is missed.
	let mut blocks = client.stream_blocks().await?;
	chain::submit_final(
		client,
		&runtime::transactions().verification().dispute(id),
		&key.keypair()?,
		"dispute",
	)
	.await?;
	if !json {
		outln!("job {id}: disputed; the committee re-checks it");
	}
	if !wait {
		return Ok(());
	}
	let mut votes = vec![];
	// Verdict events count only after this dispute's `Disputed` event: a random
	// audit of the same receipt may have ended just before.
	let mut armed = false;
	loop {
		let Some(b) = blocks.next().await else { anyhow::bail!("the node's block stream ended") };
		let b = b?;
		let events = b.at().await?.events().fetch().await?;
		for ev in events.iter() {
			let ev = ev?;
			if let Some(e) = ev.decode_fields_as::<Disputed>().transpose()? {
				armed |= e.job_id == id;
			} else if let Some(e) = ev.decode_fields_as::<AuditStarted>().transpose()? {
				if e.job_id == id && !json {
					outln!(
						"  committee: {}",
						e.committee.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
					);
				}
			} else if let Some(e) = ev.decode_fields_as::<Voted>().transpose()? {
				if e.job_id == id && armed {
					let v: agora_primitives::AuditVote = chain::recode(&e.vote)?;
					if !json {
						outln!("  {} voted {v:?}", e.validator);
					}
					votes
						.push(serde_json::json!({"validator": e.validator.to_string(), "vote": v}));
				}
			} else if let Some(e) = ev.decode_fields_as::<JobFraud>().transpose()? {
				if e.job_id == id && armed {
					let reason: agora_primitives::SlashReason = chain::recode(&e.reason)?;
					if json {
						outln!(
							"{}",
							serde_json::json!({"job": id, "block": b.number(), "verdict": "fraud", "reason": format!("{reason:?}"), "refunded": e.refunded.to_string(), "slashed": e.slashed.to_string(), "to_challenger": e.to_challenger.to_string(), "votes": votes})
						);
					} else {
						outln!("verdict: FRAUD ({reason:?}) — client refunded {}, provider slashed {}, challenger paid {}", chain::fmt_agr(e.refunded), chain::fmt_agr(e.slashed), chain::fmt_agr(e.to_challenger));
					}
					return Ok(());
				}
			} else if let Some(e) = ev.decode_fields_as::<AuditPassed>().transpose()? {
				if e.job_id == id && armed {
					if json {
						outln!(
							"{}",
							serde_json::json!({"job": id, "block": b.number(), "verdict": "upheld", "bond_to_provider": e.bond_to_provider.to_string(), "bond_to_treasury": e.bond_to_treasury.to_string(), "votes": votes})
						);
					} else {
						outln!("verdict: receipt UPHELD — the bond went {} to the provider, {} to the treasury", chain::fmt_agr(e.bond_to_provider), chain::fmt_agr(e.bond_to_treasury));
					}
					return Ok(());
				}
			} else if let Some(e) = ev.decode_fields_as::<AuditTimedOut>().transpose()? {
				if e.job_id == id && armed {
					let nv: Vec<String> = e.non_voters.iter().map(|a| a.to_string()).collect();
					if json {
						outln!(
							"{}",
							serde_json::json!({"job": id, "block": b.number(), "verdict": "none", "refunded": e.refunded.to_string(), "non_voters": nv, "votes": votes})
						);
					} else {
						outln!(
							"no verdict after every re-draw: the job ends Unverified, client refunded {}, bond returned, nobody slashed; did not vote: {}",
							chain::fmt_agr(e.refunded),
							nv.join(", ")
						);
					}
					return Ok(());
				}
			}
		}
	}
}
