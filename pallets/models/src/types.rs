//! Types of `pallet-models`.

use agora_primitives::{
	models::{ModelManifest, MAX_TEXT_LEN},
	ModelId, OfferSigner, OfferStatus,
};
use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::{traits::ConstU32, BoundedVec};
use scale_info::TypeInfo;

/// A bounded text field of a stored manifest.
pub type Text = BoundedVec<u8, ConstU32<MAX_TEXT_LEN>>;
/// A manifest as stored.
pub type StoredManifest<AccountId> = ModelManifest<AccountId, Text>;

/// A registered model.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct ModelRecord<AccountId, BlockNumber, Balance> {
	/// The manifest; `ModelId = blake2_256(SCALE(manifest))`. Never changes.
	pub manifest: StoredManifest<AccountId>,
	/// When the publisher deprecated it; a deprecated model takes no new offers.
	pub deprecated_at: Option<BlockNumber>,
	/// The block it was registered in.
	pub registered_at: BlockNumber,
	/// Held from the publisher until the model is removed (0 for genesis models).
	pub deposit: Balance,
}

/// A provider's offer to serve one model.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
#[scale_info(skip_type_params(MaxEndpoint, MaxHardware))]
pub struct Offer<AccountId, Balance, MaxEndpoint: frame_support::traits::Get<u32>, MaxHardware: frame_support::traits::Get<u32>> {
	/// The provider (its bond backs the offer).
	pub provider: AccountId,
	/// The model served.
	pub model_id: ModelId,
	/// The sr25519 key that signs receipts.
	pub worker_key: [u8; 32],
	/// Price per job.
	pub base_price: Balance,
	/// Price per 1,000 output tokens.
	pub price_per_1k_tokens: Balance,
	/// `http(s)://…` where outputs are served.
	pub endpoint: BoundedVec<u8, MaxEndpoint>,
	/// Most concurrent jobs.
	pub capacity: u32,
	/// Hardware tag, e.g. `cpu-avx512`, `cuda-h100`.
	pub hardware: BoundedVec<u8, MaxHardware>,
	/// Whether it takes jobs.
	pub status: OfferStatus,
	/// Held from the provider until the offer is closed (0 for genesis offers).
	pub deposit: Balance,
	/// Its slot in the model's offer index (`ModelOffers`); closing another
	/// offer of the model may move it to a lower slot.
	pub slot: u32,
}

/// A closed offer, kept `OfferRetention` blocks after it closed: receipts its
/// worker key signed while it was open can still be disputed (a provider does
/// not escape a dispute by closing the offer that served the answer).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct ClosedOffer<AccountId, BlockNumber> {
	/// Who signed its receipts while it was open.
	pub signer: OfferSigner<AccountId>,
	/// The block whose `on_initialize` forgets it (its `ClosedExpiry` queue).
	pub expires_at: BlockNumber,
}
