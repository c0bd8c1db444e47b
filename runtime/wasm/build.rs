use std::path::Path;

fn main() {
	// runtime/wasm → runtime (the crate to build) → the workspace. Plain parent
	// paths, not `..`: the wasm builder finds the crate in `cargo metadata` by
	// comparing manifest paths.
	// Read when the script runs, not baked in when it is compiled: clones that
	// share one target directory reuse one compiled script, and a baked path
	// would build another clone's runtime (or a deleted one's).
	let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
	let here = Path::new(&dir);
	let runtime = here.parent().unwrap_or(here);
	let workspace = runtime.parent().unwrap_or(runtime);
	// The target dir lives outside the clone (CARGO_TARGET_DIR), so the wasm
	// builder cannot find this workspace's Cargo.lock by walking up from
	// OUT_DIR; point it at the workspace so the wasm build uses the same locked
	// versions. Set here rather than globally: other crates' wasm builds (e.g.
	// frame-benchmarking-cli's test runtime) must not look in this workspace.
	std::env::set_var("WASM_BUILD_WORKSPACE_HINT", workspace);
	match substrate_wasm_builder::WasmBuilder::new().with_project(runtime.join("Cargo.toml")) {
		Ok(runtime) => runtime.export_heap_base().import_memory().build(),
		Err(e) => panic!("runtime/Cargo.toml: {e}"),
	}
}
