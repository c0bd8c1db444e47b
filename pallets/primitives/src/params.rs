//! The marketplace's governed parameters as clients see them (runtime API
//! [`crate::api::AgoraParamsApi`]); the values live in the runtime's
//! `pallet-parameters` store.

use alloc::vec::Vec;
use codec::{Decode, Encode};
use scale_info::TypeInfo;

/// What kind of number a parameter is.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum ParamUnit {
	/// A count of blocks (3 s each).
	Blocks,
	/// Parts per million.
	Ppm,
	/// Parts per billion (a `Perbill`).
	Perbill,
	/// Planck (10^-12 AGR).
	Planck,
	/// Bytes.
	Bytes,
	/// A plain count.
	Count,
	/// Thousandths.
	Milli,
}

/// One governed parameter.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct ParamInfo {
	/// The protocol name, e.g. `DISPUTE_WINDOW`.
	pub name: Vec<u8>,
	/// The value in force.
	pub value: u128,
	/// The built-in default (in force until a referendum sets another).
	pub default: u128,
	/// Smallest value a referendum may set.
	pub min: u128,
	/// Largest value a referendum may set.
	pub max: u128,
	pub unit: ParamUnit,
}
