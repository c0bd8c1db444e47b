//! # Agora primitives
//!
//! Types and constants shared by the Agora runtime, the node and `agora-worker`.
//! `no_std`, so the runtime can use it; the worker and node use it with `std`.
//!
//! - the chain's identity (token, SS58 prefix);
//! - the `agora` session key: the sr25519 key validators sign verification votes with;
//! - [`models`]: model manifests (`ModelId = blake2_256(SCALE(manifest))`), offers
//!   and the views the runtime API returns;
//! - [`rules`]: the consensus rules (content hashes, job seed, AVRF, audit and
//!   committee draws), defined once for the runtime, the off-chain workers, the
//!   worker and the verifier;
//! - [`traits`]: the small traits pallets talk to each other through (bonds and
//!   slashing, escrow, open jobs, pausing offers, reputation, the off-chain audit);
//! - [`channels`]: payment-channel vouchers, their signing payload and the lane rule;
//! - [`passes`]: service passes' quota, epoch reward, reward split and round-robin weights;
//! - [`endpoint`]: which offer endpoints committees may be sent to (public hosts only,
//!   except on dev chains);
//! - [`api`]: the runtime APIs behind the node's `agora_*` RPC.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod api;
pub mod channels;
pub mod discovery;
pub mod endpoint;
pub mod jobs;
pub mod models;
pub mod params;
pub mod passes;
pub mod rules;
pub mod traits;

pub use jobs::{AuditVote, FetchRequest, JobId, JobParams, JobStatus, PaymentMode, Receipt, UploadReceipt, VerifyRequest, VotePayload};
pub use models::{DeterminismProfile, ModelId, OfferId, OfferStatus, TaskKind};
pub use traits::{
	AuditError, AuditInput, AuditJob, ChannelParties, DisputeBonds, JobEscrow, JobMarket, ModelTerms, NonVoterReport,
	OfferRegistry, OfferSigner, OfferTerms, OffchainAudit, OnBondBelowMinimum, OpenJobs, ProviderBonds, ReceiptChecks,
	ReceiptedJob, Reputation, ServicePasses, Settlement, SlashOutcome, SlashReason,
};

/// The token's ticker symbol.
pub const TOKEN_SYMBOL: &str = "AGR";
/// Decimal places of the token: 1 AGR = 10^12 planck.
pub const TOKEN_DECIMALS: u8 = 12;
/// The SS58 address prefix of Agora accounts (not registered in the SS58 registry yet).
pub const SS58_PREFIX: u16 = 4242;

/// The balance type of the chain.
pub type Balance = u128;
/// One AGR in planck (the smallest unit).
pub const AGR: Balance = 1_000_000_000_000;
/// One thousandth of an AGR.
pub const MILLI_AGR: Balance = AGR / 1_000;

/// Key type of the validators' `agora` session key, used to sign verification votes.
///
/// Key type ids are four bytes; `agra` is the id of the key named `agora` in the
/// session keys (`author_insertKey("agra", …)`).
pub const AGORA_KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"agra");

/// The `agora` application crypto: sr25519 keys tagged with [`AGORA_KEY_TYPE`].
pub mod crypto {
	use super::AGORA_KEY_TYPE;
	use sp_application_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, AGORA_KEY_TYPE);
}

/// The public key of a validator's `agora` session key.
pub type AgoraAuthorityId = crypto::Public;
/// A signature by a validator's `agora` session key.
pub type AgoraSignature = crypto::Signature;

#[cfg(test)]
mod tests {
	use super::*;
	use sp_application_crypto::{AppCrypto, Pair as _, RuntimeAppPublic};

	#[test]
	fn agora_key_type_is_distinct_from_consensus_keys() {
		assert_eq!(&AGORA_KEY_TYPE.0, b"agra");
		assert_ne!(AGORA_KEY_TYPE, sp_core::crypto::key_types::BABE);
		assert_ne!(AGORA_KEY_TYPE, sp_core::crypto::key_types::GRANDPA);
		assert_eq!(<AgoraAuthorityId as AppCrypto>::ID, AGORA_KEY_TYPE);
	}

	#[test]
	fn agora_key_signs_and_verifies() {
		let pair = crypto::Pair::from_string("//Alice", None).map_err(|e| format!("{e:?}"));
		let pair = pair.unwrap_or_else(|e| panic!("dev seed must parse: {e}"));
		let sig = pair.sign(b"vote");
		assert!(pair.public().verify(&b"vote", &sig));
		assert!(!pair.public().verify(&b"other", &sig));
	}

	#[test]
	fn token_units_are_consistent() {
		assert_eq!(AGR, 10u128.pow(TOKEN_DECIMALS as u32));
		assert_eq!(MILLI_AGR * 1_000, AGR);
	}
}
