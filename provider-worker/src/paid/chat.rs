//! `POST /v1/chat/completions`: a paid generation, answered whole or streamed
//! as server-sent events token by token (OpenAI's `chat.completion.chunk`),
//! the signed receipt in the last event before `[DONE]`.
use super::{book, malformed, ApiError, Body, Paid, Payment, Served};
use agora_engine::{EngineError, Request};
use agora_primitives::{
	channels::served_seed, jobs::GenerationOutput, jobs::MAX_TEMPERATURE_MILLI,
};
use axum::{
	extract::State,
	http::{HeaderMap, StatusCode},
	response::{
		sse::{Event, Sse},
		IntoResponse, Response,
	},
};
use std::{convert::Infallible, sync::Arc};
use tokio::sync::mpsc;

/// `max_tokens` when a request gives none.
pub const DEFAULT_MAX_TOKENS: u32 = 256;
/// The most a request may ask for.
pub const MAX_TOKENS: u32 = 2_048;

#[derive(serde::Deserialize)]
struct Message {
	role: String,
	content: String,
}

#[derive(serde::Deserialize)]
struct ChatRequest {
	model: String,
	messages: Vec<Message>,
	#[serde(default, alias = "max_completion_tokens")]
	max_tokens: Option<u32>,
	#[serde(default)]
	temperature: Option<f64>,
	#[serde(default)]
	seed: Option<u64>,
	#[serde(default)]
	stream: bool,
}

fn now_secs() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_secs())
		.unwrap_or(0)
}

fn refused(e: EngineError) -> ApiError {
	match e {
		EngineError::Input(m) => ApiError::new(StatusCode::BAD_REQUEST, "input_refused", m),
		EngineError::Internal(m) => {
			ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "engine_failure", m)
		},
	}
}

pub(super) async fn completions(
	State(s): State<Arc<Paid>>,
	headers: HeaderMap,
	body: axum::body::Bytes,
) -> Result<Response, ApiError> {
	let req: ChatRequest = serde_json::from_slice(&body).map_err(malformed)?;
	let max_tokens = req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
	if max_tokens == 0 || max_tokens > MAX_TOKENS {
		return Err(malformed(format!("`max_tokens` is 1 to {MAX_TOKENS}")));
	}
	let temperature = req.temperature.unwrap_or(0.0);
	if !(0.0..=f64::from(MAX_TEMPERATURE_MILLI) / 1000.0).contains(&temperature) {
		return Err(malformed(format!(
			"`temperature` is 0 to {}",
			f64::from(MAX_TEMPERATURE_MILLI) / 1000.0
		)));
	}
	// Temperatures are thousandths on chain: the verifier checks that grid.
	let milli = agora_client::temperature_milli(temperature);
	let temperature = f64::from(milli) / 1000.0;
	if req.messages.is_empty() || req.messages.iter().any(|m| m.role.is_empty()) {
		return Err(malformed("`messages` needs at least one message, each with a `role`"));
	}
	let Served { id: model_id, engine, base_price: base, price_per_1k: per_1k } =
		s.model(&req.model)?.clone();
	if engine.decode(&[]).is_none() {
		return Err(malformed(format!("`{}` does not generate text", req.model)));
	}
	let input = agora_client::channel::chat_input(
		req.messages.iter().map(|m| (m.role.as_str(), m.content.as_str())),
	);
	super::disputable(&input)?;
	let params = agora_primitives::JobParams {
		max_tokens,
		temperature_milli: milli,
		seed: req.seed.unwrap_or(0),
	};
	let price = agora_client::channel::completion_price(base, per_1k, max_tokens);
	let request = book::fingerprint("/v1/chat/completions", &body);
	let voucher = match s.pay(&headers, price, request).await? {
		Payment::Fresh(v) => v,
		Payment::Kept(answer) => return Ok(answer),
	};
	let v = voucher.voucher;
	let run = Request {
		input: input.clone(),
		max_tokens,
		temperature,
		seed: served_seed(v.channel_id, v.lane, v.nonce, req.seed.unwrap_or(0)),
	};
	let id = format!("chatcmpl-{}-{}-{}", v.channel_id, v.lane, v.nonce);
	let created = now_secs();

	if !req.stream {
		let e = engine.clone();
		let inf = tokio::task::spawn_blocking(move || e.run(&run))
			.await
			.map_err(|e| {
				ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "engine_failure", e.to_string())
			})?
			.map_err(refused)?;
		#[cfg(feature = "test-cheat")]
		let inf = match s.cheat {
			Some(c) => {
				tracing::warn!(cheat = ?c, "TEST BUILD: cheating on a paid chat");
				let (output, output_tokens) =
					c.apply(inf.output, inf.output_tokens, crate::store::OutputKind::Text, max_tokens);
				let tokens = GenerationOutput::from_bytes(&output).map(|g| g.tokens).unwrap_or_default();
				agora_engine::Inference { output, output_tokens, tokens, ..inf }
			},
			None => inf,
		};
		let receipt = s.receipt(&voucher, model_id, &input, params, price, &inf.output, inf.output_tokens);
		let text = GenerationOutput::from_bytes(&inf.output).map(|o| o.text).unwrap_or_default();
		let finish = if inf.output_tokens >= max_tokens { "length" } else { "stop" };
		let body = serde_json::json!({
			"id": id, "object": "chat.completion", "created": created, "model": req.model,
			"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
			"usage": {"prompt_tokens": inf.prompt_tokens, "completion_tokens": inf.output_tokens,
				"total_tokens": inf.prompt_tokens.saturating_add(inf.output_tokens)},
			"agora": {"receipt": receipt, "tokens": inf.tokens, "price": price.to_string()},
		});
		return s.answer_whole(&voucher, request, &receipt, &body).await;
	}

	// Streamed: the engine calls back with each token as it is decoded; each
	// becomes an event with the text it adds.
	let (tok_tx, mut tok_rx) = mpsc::unbounded_channel::<u32>();
	let e = engine.clone();
	let done = tokio::task::spawn_blocking(move || {
		e.run_streaming(&run, &mut |t| {
			let _ = tok_tx.send(t);
		})
	});
	let (ev_tx, ev_rx) = mpsc::channel::<Result<Event, Infallible>>(64);
	let (id2, model2) = (id.clone(), req.model.clone());
	let chunk = move |delta: serde_json::Value, finish: Option<&str>| {
		serde_json::json!({
			"id": id, "object": "chat.completion.chunk", "created": created, "model": req.model,
			"choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
		})
	};
	tokio::spawn(async move {
		// Every event's data, as sent: the answer kept for a retry.
		let mut sent: Vec<String> = vec![];
		let mut send = |v: serde_json::Value| {
			let data = v.to_string();
			sent.push(data.clone());
			Ok(Event::default().data(data))
		};
		let _ = ev_tx.send(send(chunk(serde_json::json!({"role": "assistant", "content": ""}), None))).await;
		let mut ids = vec![];
		let mut shown = String::new();
		while let Some(t) = tok_rx.recv().await {
			ids.push(t);
			let text = engine.decode(&ids).unwrap_or_default();
			// Hold back a partial UTF-8 character until its next token.
			if text.ends_with('\u{FFFD}') || !text.starts_with(&shown) {
				continue;
			}
			let delta = text[shown.len()..].to_string();
			shown = text;
			if !delta.is_empty()
				&& ev_tx.send(send(chunk(serde_json::json!({"content": delta}), None))).await.is_err()
			{
				return; // the client went away; the voucher stays unclaimed
			}
		}
		let result = done.await.map_err(|e| EngineError::Internal(e.to_string())).and_then(|r| r);
		match result {
			Ok(inf) => {
				let full =
					GenerationOutput::from_bytes(&inf.output).map(|o| o.text).unwrap_or_default();
				if let Some(rest) = full.strip_prefix(shown.as_str()).filter(|r| !r.is_empty()) {
					let _ = ev_tx.send(send(chunk(serde_json::json!({"content": rest}), None))).await;
				}
				let finish = if inf.output_tokens >= max_tokens { "length" } else { "stop" };
				let _ = ev_tx.send(send(chunk(serde_json::json!({}), Some(finish)))).await;
				let receipt = s.receipt(&voucher, model_id, &input, params, price, &inf.output, inf.output_tokens);
				// Shaped as OpenAI's usage chunk (no choices), so stock clients take it.
				let last = send(serde_json::json!({
					"id": id2, "object": "chat.completion.chunk", "created": created, "model": model2,
					"choices": [],
					"usage": {"prompt_tokens": inf.prompt_tokens, "completion_tokens": inf.output_tokens,
						"total_tokens": inf.prompt_tokens.saturating_add(inf.output_tokens)},
					"agora": {"receipt": receipt, "tokens": inf.tokens, "price": price.to_string()},
				}));
				// Durable (served, and kept for a retry) before the receipt goes out.
				match s.served(&voucher, request, &receipt, Body::Stream(sent)).await {
					Ok(()) => {
						let _ = ev_tx.send(last).await;
					},
					Err(e) => {
						tracing::error!(error = %e.message, "a streamed answer's receipt was not persisted")
					},
				}
			},
			Err(e) => {
				let err = serde_json::json!({"error": {"message": e.to_string(), "type": "server_error", "code": "engine_failure"}});
				let _ = ev_tx.send(Ok(Event::default().data(err.to_string()))).await;
			},
		}
		let _ = ev_tx.send(Ok(Event::default().data("[DONE]"))).await;
	});
	let stream =
		futures::stream::unfold(ev_rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) });
	Ok(Sse::new(stream).into_response())
}
