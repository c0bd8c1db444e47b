//! # The Agora provider worker
//!
//! The provider's side of the market and the validator's local verifier, on
//! top of two crates with one role each: `agora-engine` (inference and
//! teacher-forced verification; no chain code) and `agora-client` (the chain;
//! no inference).
//!
//! - [`store`]: outputs on disk, content-addressed, and the worker's per-job records.
//! - [`api`]: the HTTP API (`/v1/jobs/{id}/output`, `/metrics`).
//! - [`paid`]: paid serving on an OpenAI-compatible API, per request through
//!   payment channels: vouchers checked and made durable, receipts, claims.
//! - [`serve`]: the worker loop that ties them together.
//! - [`verifier`]: the local verifier validators' off-chain workers ask
//!   (docs/protocol.md §6); [`fetch`]: its guarded fetch of providers'
//!   endpoints for them (public addresses only, checked after resolution).
//! - [`adversarial`]: the verifier's error rates on honest and cheating claims
//!   (docs/verification.md); [`cross_device`]: the same across hardware (a
//!   GPU's honest outputs judged on a CPU and the other way round).
pub mod adversarial;
pub mod api;
pub mod cross_device;
pub mod fetch;
pub mod metrics;
pub mod paid;
pub mod serve;
pub mod store;
pub mod verifier;
