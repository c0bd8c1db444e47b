//! Every pallet's configuration, one file per area.
//!
//! - [`constants`]: constants several areas share (imports no sibling);
//! - [`system`]: `frame-system` and timestamp;
//! - [`consensus`]: BABE, GRANDPA, session and the `agora` session key;
//! - [`staking`]: NPoS (staking, on-chain election, era rewards, offences,
//!   authorship, historical session);
//! - [`monetary`]: balances and transaction payment;
//! - [`governance`]: OpenGov (preimage, scheduler, conviction voting, referenda
//!   with Agora's tracks and origins, treasury) and sudo (its key is set in the
//!   development preset only);
//! - [`marketplace`]: provider bonds, the model registry, escrow, jobs and
//!   reputation;
//! - [`verification`]: audit draws, committees, votes, disputes and verdicts,
//!   and the non-voting offence;
//! - [`params`]: the marketplace's governed parameters (`pallet-parameters`,
//!   bounds-checked by a `market_params` or root referendum).

pub mod constants;
pub mod consensus;
pub mod governance;
pub mod liveness;
pub mod marketplace;
pub mod monetary;
pub mod params;
pub mod staking;
pub mod system;
pub mod verification;
