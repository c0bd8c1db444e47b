//! Sudo. The pallet is part of the runtime, but only the development preset sets a
//! key; on `local` and every other chain it has none, so no call can use it.
//! OpenGov replaces it in issue 8.

use crate::{Runtime, RuntimeCall, RuntimeEvent};

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}
