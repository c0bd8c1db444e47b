//! Rebuilds the crate when the runtime metadata its subxt types are generated
//! from changes (the `#[subxt::subxt]` macro reads the file; cargo would not
//! notice on its own).
fn main() {
	println!("cargo:rerun-if-changed=artifacts/metadata.scale");
	println!("cargo:rerun-if-changed=build.rs");
}
