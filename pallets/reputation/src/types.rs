//! Storage types of `pallet-reputation`.
use codec::{Decode, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// What the pallet knows of one provider.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct ProviderRecord {
	/// Σ of every client's latest rating (−1, 0, +1).
	pub sum: i64,
	/// Clients with a latest rating.
	pub raters: u32,
	/// Latest ratings that are +1.
	pub positive: u32,
	/// Latest ratings that are −1.
	pub negative: u32,
	/// Finalized jobs.
	pub finalized: u32,
	/// Expired jobs (each −1 in the score's sum).
	pub expiries: u32,
	/// Distinct clients with a finalized job.
	pub clients: u32,
	/// A receipt was proven fraudulent: the score is at the floor (0).
	pub fraud: bool,
}

impl ProviderRecord {
	/// `S` in `100 / (1 + e^(−θ·S))`: the ratings' sum minus one per expiry.
	pub fn score_sum(&self) -> i64 {
		self.sum.saturating_sub(i64::from(self.expiries))
	}
}

/// A client's review-abuse restriction.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct Restriction<BlockNumber> {
	/// The client may rate again from this block on.
	pub until: BlockNumber,
	/// How many times the client was restricted (the n-th lasts `T · 2^(n−1)`).
	pub strikes: u32,
}
