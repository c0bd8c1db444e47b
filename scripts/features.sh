# shellcheck shell=bash
# The test build's cargo features, sourced by every script that builds it so
# that all of them share one build (another feature set would recompile much
# of the node):
# - agora-worker/test-cheat: the cheating switch the verification end-to-end
#   test needs (never in a release build);
# - agora-node/try-runtime: the runtime's TryRuntime API, so the end-to-end
#   tests can run every pallet's `try_state` on their chains (`agora try-state`).
TEST_FEATURES="agora-worker/test-cheat,agora-node/try-runtime"
# And the one build setting they must share: non-incremental (scripts/test.sh
# sets it for CI, whose clones never reuse incremental caches); a script run
# with incremental on would rebuild the workspace under it.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
# - OPENSSL_NO_VENDOR: litep2p (sc-network) turns on str0m's `vendored`
#   feature, which builds OpenSSL from source (~4 CPU-minutes of a cold build,
#   measured with `--timings`). The test build links Debian's libssl instead
#   (libssl-dev, from scripts/setup.sh); release builds keep the vendored one.
export OPENSSL_NO_VENDOR=${OPENSSL_NO_VENDOR:-1}
