fn main() {
	#[cfg(feature = "std")]
	{
		// The target dir lives outside the clone (CARGO_TARGET_DIR), so the wasm
		// builder cannot find this workspace's Cargo.lock by walking up from
		// OUT_DIR; point it at the workspace so the wasm build uses the same locked
		// versions. Set here rather than globally: other crates' wasm builds (e.g.
		// frame-benchmarking-cli's test runtime) must not look in this workspace.
		let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
		std::env::set_var("WASM_BUILD_WORKSPACE_HINT", workspace);
		substrate_wasm_builder::WasmBuilder::build_using_defaults();
	}
}
