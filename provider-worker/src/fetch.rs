//! The committee member's fetch (docs/protocol.md §6, "Endpoints"): one `GET`
//! of a provider's endpoint for the validator's off-chain worker, which posts a
//! SCALE [`FetchRequest`] to the verifier's `POST /v1/fetch` instead of
//! fetching itself.
//!
//! The chain checks an offer's endpoint as text; a public name whose DNS
//! record later points at a private address (DNS rebinding) would send every
//! committee member's request into its own network. Here the name is resolved
//! first and the connection goes only to the addresses that are public by
//! [`agora_primitives::endpoint::public_ip`], the rule the chain holds literal
//! hosts to; a literal private host is refused the same way, and no redirect
//! is followed (its target is not the offer's). On a chain that takes private
//! endpoints (`Models::PrivateEndpoints`, dev chains) every address is used.
//!
//! Answers `200` with [`FETCH_HEADER`] `served` and the provider's body, or
//! `failed` and the reason when the provider did not serve it (no connection,
//! not 200, longer than the cap, slower than [`FETCH_TIMEOUT_MS`] for the whole
//! request, or no address allowed); `400` for a body that does not decode.
use agora_primitives::{
	endpoint::public_ip,
	jobs::{FETCH_HEADER, FETCH_TIMEOUT_MS, READ_HEADER},
	FetchRequest,
};
use axum::{
	body::Bytes,
	extract::State,
	http::StatusCode,
	response::{IntoResponse, Response},
};
use codec::Decode;
use std::{net::SocketAddr, sync::Arc, time::Duration};

/// Why a provider's endpoint did not serve.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
	/// Not an `http://` or `https://` URL with a host.
	#[error("not an http(s) URL with a host")]
	BadUrl,
	/// The host is, or resolves only to, addresses the chain does not allow.
	#[error("{0} has no public address")]
	NotPublic(String),
	/// No connection, or the request failed or took too long.
	#[error("no answer: {0}")]
	NoAnswer(String),
	/// An answer other than 200.
	#[error("HTTP {0}")]
	Status(u16),
	/// More than the cap.
	#[error("longer than {0} bytes")]
	TooLong(usize),
}

/// Resolves names to their public addresses only; a name with none fails.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
	fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
		let host = name.as_str().to_owned();
		Box::pin(async move {
			let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
			let public: Vec<SocketAddr> = all.into_iter().filter(|a| public_ip(a.ip())).collect();
			if public.is_empty() {
				return Err(Box::new(FetchError::NotPublic(host)) as Box<dyn std::error::Error + Send + Sync>);
			}
			Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
		})
	}
}

/// The guarded HTTP client of `POST /v1/fetch`.
pub struct Fetcher {
	client: reqwest::Client,
	allow_private: bool,
}

impl Fetcher {
	/// A fetcher for a chain that takes private endpoints (`allow_private`) or
	/// only public ones.
	pub fn new(allow_private: bool) -> anyhow::Result<Self> {
		let mut b = reqwest::Client::builder()
			.redirect(reqwest::redirect::Policy::none())
			.no_proxy()
			.timeout(Duration::from_millis(FETCH_TIMEOUT_MS));
		if !allow_private {
			b = b.dns_resolver(Arc::new(PublicOnly));
		}
		Ok(Self { client: b.build()?, allow_private })
	}

	/// `GET req.url` (with the read header when given): the body of a 200
	/// answer of at most `req.cap` bytes.
	pub async fn get(&self, req: &FetchRequest) -> Result<Vec<u8>, FetchError> {
		let url = std::str::from_utf8(&req.url).ok().and_then(|u| reqwest::Url::parse(u).ok()).ok_or(FetchError::BadUrl)?;
		if !matches!(url.scheme(), "http" | "https") {
			return Err(FetchError::BadUrl);
		}
		// A literal address is never resolved: judge it here.
		let host = url.host_str().ok_or(FetchError::BadUrl)?;
		if let Ok(a) = host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>() {
			if !self.allow_private && !public_ip(a) {
				return Err(FetchError::NotPublic(a.to_string()));
			}
		}
		let cap = usize::try_from(req.cap).unwrap_or(usize::MAX);
		let mut r = self.client.get(url);
		if !req.read_auth.is_empty() {
			let auth = String::from_utf8(req.read_auth.clone()).map_err(|_| FetchError::BadUrl)?;
			r = r.header(READ_HEADER, auth);
		}
		let mut resp = r.send().await.map_err(|e| no_answer(&e))?;
		if resp.status() != reqwest::StatusCode::OK {
			return Err(FetchError::Status(resp.status().as_u16()));
		}
		if resp.content_length().is_some_and(|n| n > req.cap as u64) {
			return Err(FetchError::TooLong(cap));
		}
		let mut body = Vec::new();
		while let Some(chunk) = resp.chunk().await.map_err(|e| no_answer(&e))? {
			if body.len().saturating_add(chunk.len()) > cap {
				return Err(FetchError::TooLong(cap));
			}
			body.extend_from_slice(&chunk);
		}
		Ok(body)
	}
}

/// The resolver's refusal when it is the cause, else the transport error.
fn no_answer(e: &reqwest::Error) -> FetchError {
	let mut source: Option<&dyn std::error::Error> = Some(e);
	while let Some(s) = source {
		if let Some(f) = s.downcast_ref::<FetchError>() {
			return f.clone();
		}
		source = s.source();
	}
	FetchError::NoAnswer(if e.is_timeout() { format!("over {FETCH_TIMEOUT_MS} ms") } else { format!("{e}") })
}

/// `POST /v1/fetch`.
pub async fn fetch(State(f): State<Arc<Fetcher>>, body: Bytes) -> Response {
	let Ok(req) = FetchRequest::decode(&mut &body[..]) else {
		return (StatusCode::BAD_REQUEST, "the body is not a SCALE FetchRequest").into_response();
	};
	let url = String::from_utf8_lossy(&req.url).into_owned();
	match f.get(&req).await {
		Ok(b) => ([(FETCH_HEADER, "served")], b).into_response(),
		Err(e) => {
			tracing::info!(%url, error = %e, "the provider did not serve");
			([(FETCH_HEADER, "failed")], e.to_string()).into_response()
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn req(url: &str, cap: u32) -> FetchRequest {
		FetchRequest { url: url.as_bytes().to_vec(), cap, read_auth: vec![] }
	}

	/// A one-shot HTTP server on loopback answering `answer` to one request.
	async fn server(answer: &'static str) -> u16 {
		use tokio::io::{AsyncReadExt, AsyncWriteExt};
		let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let port = l.local_addr().unwrap().port();
		tokio::spawn(async move {
			while let Ok((mut s, _)) = l.accept().await {
				let mut buf = [0u8; 4096];
				let _ = s.read(&mut buf).await;
				let _ = s.write_all(answer.as_bytes()).await;
				// Keep the socket open: a stalled body stays stalled.
				tokio::time::sleep(Duration::from_secs(30)).await;
			}
		});
		port
	}

	const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

	#[tokio::test]
	async fn private_addresses_are_refused_on_public_chains_whatever_the_name() {
		let port = server(OK).await;
		let public = Fetcher::new(false).unwrap();
		// A literal loopback host.
		assert_eq!(
			public.get(&req(&format!("http://127.0.0.1:{port}/v1/jobs/1/output"), 100)).await,
			Err(FetchError::NotPublic("127.0.0.1".into()))
		);
		assert_eq!(public.get(&req(&format!("http://[::1]:{port}/"), 100)).await, Err(FetchError::NotPublic("::1".into())));
		// A name that resolves to loopback only (what a rebinding record does).
		assert_eq!(
			public.get(&req(&format!("http://localhost:{port}/"), 100)).await,
			Err(FetchError::NotPublic("localhost".into()))
		);
		// The same endpoint on a dev chain.
		let dev = Fetcher::new(true).unwrap();
		assert_eq!(dev.get(&req(&format!("http://localhost:{port}/"), 100)).await, Ok(b"hello".to_vec()));
	}

	#[tokio::test]
	async fn long_slow_failing_and_redirecting_answers_are_not_served() {
		let dev = Fetcher::new(true).unwrap();
		let port = server(OK).await;
		assert_eq!(dev.get(&req(&format!("http://127.0.0.1:{port}/"), 4)).await, Err(FetchError::TooLong(4)));
		let port = server("HTTP/1.1 500 Oops\r\ncontent-length: 0\r\n\r\n").await;
		assert_eq!(dev.get(&req(&format!("http://127.0.0.1:{port}/"), 100)).await, Err(FetchError::Status(500)));
		let to = server(OK).await;
		let moved: &'static str =
			Box::leak(format!("HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{to}/\r\ncontent-length: 0\r\n\r\n").into_boxed_str());
		let port = server(moved).await;
		assert_eq!(dev.get(&req(&format!("http://127.0.0.1:{port}/"), 100)).await, Err(FetchError::Status(302)));
		assert_eq!(dev.get(&req("file:///etc/passwd", 100)).await, Err(FetchError::BadUrl));
		// Headers, then a body that never comes: the whole request's deadline.
		let port = server("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nabc").await;
		let t0 = std::time::Instant::now();
		assert!(matches!(dev.get(&req(&format!("http://127.0.0.1:{port}/"), 2000)).await, Err(FetchError::NoAnswer(_))));
		let took = t0.elapsed();
		assert!(took >= Duration::from_millis(FETCH_TIMEOUT_MS - 100) && took < Duration::from_millis(FETCH_TIMEOUT_MS + 3_000), "{took:?}");
	}
}
