//! Inputs sent by hash (`agora job submit --by-hash`, the MCP server's
//! `by_hash`): the upload to the assigned worker with its checked upload
//! receipt, and the contest of a false "input never came" with it.
use super::wait_job;
use agora_client::chain::{self, runtime, Client, JobStatus, View};
use agora_primitives::rules::content_hash;
use std::time::Duration;

/// Uploads job `job`'s by-hash input to the worker of `offer_id`
/// (`PUT /v1/inputs?job={job}`) and returns the worker's upload receipt,
/// checked: its job key's signature of `UploadReceipt` for this job and input.
/// The worker takes the input only once it sees the job (assigned to it,
/// open, with this hash) on chain, so a refusal (409) is retried for a while.
pub async fn upload_input(view: &View<'_>, job: u64, offer_id: u64, input: &[u8]) -> anyhow::Result<[u8; 64]> {
	let offer = view
		.offer(offer_id)
		.await?
		.ok_or_else(|| anyhow::anyhow!("offer {offer_id} is gone; its endpoint is unknown"))?;
	let worker_key = view
		.job(job)
		.await?
		.ok_or_else(|| anyhow::anyhow!("job {job} is not on chain"))?
		.worker_key;
	let upload = agora_primitives::UploadReceipt { job_id: job, input_hash: content_hash(input) };
	let url = format!("{}/v1/inputs?job={job}", offer.endpoint.trim_end_matches('/'));
	let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
	let mut last = String::new();
	for attempt in 0..10u64 {
		if attempt > 0 {
			tokio::time::sleep(Duration::from_secs(2)).await;
		}
		match http.put(&url).body(input.to_vec()).send().await {
			Ok(r) if r.status().is_success() => {
				let body: serde_json::Value = r.json().await?;
				let sig = body["upload_receipt"]
					.as_str()
					.ok_or_else(|| anyhow::anyhow!("{url} took the input but signed no upload receipt"))
					.and_then(agora_client::parse_sig)?;
				anyhow::ensure!(
					upload.verify(&sig, &worker_key),
					"{url} took the input, but its upload receipt is not signed by the job's worker key"
				);
				return Ok(sig);
			},
			Ok(r) if r.status().as_u16() == 409 => last = format!("409 {}", r.text().await.unwrap_or_default()),
			Ok(r) => {
				let status = r.status();
				anyhow::bail!("{url} refused the input: {status} {}", r.text().await.unwrap_or_default())
			},
			Err(e) => last = e.to_string(),
		}
	}
	anyhow::bail!("could not upload the input to {url}: {last}")
}

/// Waits for job `id`'s receipt (`Ok`), or, with the upload receipt of its
/// by-hash input, for a report that the input never came, which it contests
/// at once (`Err`: what the contest moved).
pub async fn receipt_or_contest(
	client: &Client,
	id: u64,
	signer: &chain::Keypair,
	upload: Option<[u8; 64]>,
) -> anyhow::Result<Result<chain::Job, runtime::jobs::events::InputReportContested>> {
	let job = wait_job(
		client,
		id,
		|j| j.receipt.is_some() || (upload.is_some() && matches!(j.status, JobStatus::InputMissing)),
		"a receipt",
	)
	.await?;
	match (&job.status, upload) {
		(JobStatus::InputMissing, Some(sig)) => Ok(Err(contest(client, signer, id, sig).await?)),
		_ => Ok(Ok(job)),
	}
}

/// Contests job `id`'s `InputMissing` report with the worker's upload receipt
/// `sig`; returns what it moved.
async fn contest(
	client: &Client,
	signer: &chain::Keypair,
	id: u64,
	sig: [u8; 64],
) -> anyhow::Result<runtime::jobs::events::InputReportContested> {
	let call = runtime::transactions().jobs().contest_input_missing(id, sig);
	let events = chain::submit_final(client, &call, signer, "contest-input").await?;
	events
		.find_first::<runtime::jobs::events::InputReportContested>()
		.transpose()?
		.ok_or_else(|| anyhow::anyhow!("contest-input: no InputReportContested event"))
}

/// [`contest`], printing what it moved.
pub async fn contest_input(client: &Client, signer: &chain::Keypair, id: u64, sig: [u8; 64], json: bool) -> anyhow::Result<()> {
	print_contested(id, &contest(client, signer, id, sig).await?, json);
	Ok(())
}

/// What a contest of a false input report moved, as a JSON line or in words.
pub fn print_contested(id: u64, e: &runtime::jobs::events::InputReportContested, json: bool) {
	if json {
		outln!(
			"{}",
			serde_json::json!({"event": "input_report_contested", "job_id": id, "provider": e.provider.to_string(), "compensated": e.compensated.to_string(), "slashed": e.slashed.to_string()})
		);
	} else {
		outln!(
			"job {id}: the report that the input never came was false — {} back to you out of {}'s bond, {} slashed; the job ends Fraud",
			chain::fmt_agr(e.compensated),
			e.provider,
			chain::fmt_agr(e.slashed)
		);
	}
}
