//! The Agora runtime (`agora-runtime`) compiled to wasm by
//! `substrate-wasm-builder` in this crate's build script, with this crate's
//! `runtime-benchmarks` and `try-runtime` features passed on.
//!
//! `WASM_BINARY` is the compact, compressed runtime (`None` when the build was
//! skipped with `SKIP_WASM_BUILD`); `WASM_BINARY_BLOATY` the uncompressed one.

include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));
