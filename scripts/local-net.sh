#!/usr/bin/env bash
# Starts and stops Agora's 4-validator local network (Alice, Bob, Charlie, Dave)
# on loopback.
#
#   scripts/local-net.sh start            start all four validators, wait until they finalize
#   scripts/local-net.sh stop             stop them all (SIGTERM, then SIGKILL after 20 s)
#   scripts/local-net.sh stop-node NAME   stop one validator (alice|bob|charlie|dave)
#   scripts/local-net.sh start-node NAME  (re)start one validator on its existing database
#   scripts/local-net.sh status           print each node's best and finalized block
#   scripts/local-net.sh start-twin NAME [babe|grandpa]
#                                         start a second node with validator NAME's keys
#                                         (what a validator running its keys on two
#                                         machines does): it authors and votes alongside
#                                         NAME, i.e. equivocates, and the other nodes report
#                                         it (equivocation -> offence -> slash). With `babe`
#                                         the twin holds only NAME's BABE key: it equivocates
#                                         in block production only (GRANDPA votes, which
#                                         come at once, would otherwise get NAME disabled
#                                         before its twin authors a block); with
#                                         `grandpa` only NAME's GRANDPA key: it double-votes
#                                         in finality only (with all keys the BABE
#                                         equivocation may come first and get NAME disabled
#                                         before any double vote). A GRANDPA twin votes what
#                                         NAME votes unless their heads differ; started while
#                                         finality is stalled (two validators down), it joins
#                                         the stalled round and prevotes a newer head than
#                                         NAME did, so the double vote is certain
#   scripts/local-net.sh add-validator NAME
#                                         start a fifth (eve) or sixth (ferdie) node as a
#                                         validator with a fresh keystore, rotate its session
#                                         keys on it, and have the account //Eve (//Ferdie) set
#                                         them, bond AGORA_NET_BOND AGR (default 100000) and
#                                         validate, with the `agora` client; staking elects it
#                                         at the next era (`agora stake status`)
#
# Ports (loopback only), for validator i = 0..3 (alice..dave), plus AGORA_NET_PORT_OFFSET:
#   p2p         30333 + i
#   JSON-RPC     9944 + i   (HTTP and WebSocket)
#   Prometheus   9615 + i
# (eve, ferdie: i = 4, 5; a twin of validator i: i + 10)
#
# Environment:
#   AGORA_NODE             the agora-node binary (default: $CARGO_TARGET_DIR/debug/agora-node)
#   AGORA_NET_DIR          databases, logs and pid files (default: /tmp/agora-local-net)
#   AGORA_NET_PORT_OFFSET  added to every port (default: 0), to run beside another network
#   AGORA_CHAIN            chain spec (default: local; a path such as chain-specs/local.json works)
#   AGORA_NET_VERIFIERS    1: also run each validator's local verifier (`agora-worker
#                          verifier`, port 8800 + i + offset) and start the node with
#                          --agora-verifier, so its committee seats vote (docs/protocol.md §6)
#   AGORA_WORKER           the agora-worker binary (default: beside agora-node)
#   AGORA_CLIENT           the agora client binary (default: beside agora-node)
set -euo pipefail

NAMES=(alice bob charlie dave)
# Nodes add-validator can start; their accounts' public keys (dev seeds //Eve, //Ferdie).
EXTRA=(eve ferdie)
declare -A PUBKEY=(
  [eve]=0xe659a7a1628cdd93febc04a4e0646ea20e9f5f0ce097d9a05290d4a9e054df4e
  [ferdie]=0x1cbd2d43530a44705ad088af313e18f80b53ef16b36177cd4b77b846f2a5f07c
)
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
NODE=${AGORA_NODE:-$TARGET/debug/agora-node}
WORKER=${AGORA_WORKER:-$(dirname "$NODE")/agora-worker}
CLIENT=${AGORA_CLIENT:-$(dirname "$NODE")/agora}
VERIFIERS=${AGORA_NET_VERIFIERS:-0}
DIR=${AGORA_NET_DIR:-/tmp/agora-local-net}
OFF=${AGORA_NET_PORT_OFFSET:-0}
CHAIN=${AGORA_CHAIN:-local}

die() { echo "local-net: $*" >&2; exit 1; }

ALL=("${NAMES[@]}" "${EXTRA[@]}")

index_of() {
  local i
  for i in "${!ALL[@]}"; do [ "${ALL[$i]}" = "$1" ] && { echo "$i"; return; }; done
  die "unknown node '$1' (expected one of: ${ALL[*]})"
}

# Fixed node keys give fixed peer ids, so every node can find Alice.
node_key() { printf '%064x' "$(( $1 + 1 ))"; }
ALICE_PEER_ID=12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp

rpc_port() { echo $(( 9944 + $1 + OFF )); }
verifier_port() { echo $(( 8800 + $1 + OFF )); }

rpc() { # rpc PORT METHOD [PARAMS]
  curl -s -m "${RPC_TIMEOUT:-5}" -H 'Content-Type: application/json' \
    -d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$2\",\"params\":${3:-[]}}" "http://127.0.0.1:$1" || true
}

block_number() { # block_number PORT best|finalized
  local hash=""
  if [ "$2" = finalized ]; then
    hash=$(rpc "$1" chain_getFinalizedHead | sed -n 's/.*"result":"\(0x[0-9a-f]*\)".*/\1/p')
    [ -n "$hash" ] || { echo -1; return; }
  fi
  local n
  n=$(rpc "$1" chain_getHeader "[${hash:+\"$hash\"}]" | sed -n 's/.*"number":"\(0x[0-9a-f]*\)".*/\1/p')
  [ -n "$n" ] && echo $(( n )) || echo -1
}

start_node() {
  local i=$1 name=${ALL[$1]}
  local pidf="$DIR/$name.pid"
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
    echo "local-net: $name already running (pid $(cat "$pidf"))"; return
  fi
  mkdir -p "$DIR/$name"
  local extra=()
  [ "$VERIFIERS" = 1 ] && extra=(--agora-verifier "http://127.0.0.1:$(verifier_port "$i")")
  # The genesis validators use their dev keys; an added one starts with an empty
  # keystore and gets fresh session keys from author_rotateKeysWithOwner.
  local role=(--"$name")
  [ "$i" -ge ${#NAMES[@]} ] && role=(--validator --name "$name")
  "$NODE" --chain "$CHAIN" "${role[@]}" --base-path "$DIR/$name" "${extra[@]}" \
    --node-key "$(node_key "$i")" \
    --port $(( 30333 + i + OFF )) --rpc-port "$(rpc_port "$i")" \
    --prometheus-port $(( 9615 + i + OFF )) \
    --bootnodes "/ip4/127.0.0.1/tcp/$(( 30333 + OFF ))/p2p/$ALICE_PEER_ID" \
    --no-mdns --no-telemetry --rpc-cors all \
    >>"$DIR/$name.log" 2>&1 &
  echo $! >"$pidf"
  echo "local-net: started $name (pid $!, rpc $(rpc_port "$i"), log $DIR/$name.log)"
  if [ "$VERIFIERS" = 1 ]; then
    local vpid="$DIR/$name-verifier.pid"
    if ! { [ -f "$vpid" ] && kill -0 "$(cat "$vpid")" 2>/dev/null; }; then
      [ -x "$WORKER" ] || die "no agora-worker binary at $WORKER (set AGORA_WORKER)"
      RUST_LOG=${RUST_LOG:-info} NO_COLOR=1 "$WORKER" verifier --url "ws://127.0.0.1:$(rpc_port "$i")" \
        --listen "127.0.0.1:$(verifier_port "$i")" >>"$DIR/$name-verifier.log" 2>&1 &
      echo $! >"$vpid"
      echo "local-net: started $name's verifier (pid $!, http://127.0.0.1:$(verifier_port "$i"), log $DIR/$name-verifier.log)"
    fi
  fi
}

start_twin() {
  local i=$1 name=${NAMES[$1]:-}
  [ -n "$name" ] || die "start-twin takes a genesis validator: ${NAMES[*]}"
  local t=$(( 10 + i )) pidf="$DIR/$name-twin.pid"
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
    echo "local-net: $name's twin already running"; return
  fi
  mkdir -p "$DIR/$name-twin"
  # The same dev keys as $name (--$name; only the BABE key with `babe`), its own
  # database, node key and ports.
  local role=(--"$name")
  case "${2:-}" in
    babe)
      "$NODE" key insert --chain "$CHAIN" --base-path "$DIR/$name-twin" \
        --key-type babe --scheme sr25519 --suri "//${name^}"
      role=(--validator) ;;
    grandpa)
      "$NODE" key insert --chain "$CHAIN" --base-path "$DIR/$name-twin" \
        --key-type gran --scheme ed25519 --suri "//${name^}"
      role=(--validator) ;;
    "") ;;
    *) die "start-twin: the key set is babe, grandpa or nothing (all keys), not ${2}" ;;
  esac
  "$NODE" --chain "$CHAIN" "${role[@]}" --name "$name-twin" --base-path "$DIR/$name-twin" \
    --node-key "$(node_key "$t")" \
    --port $(( 30333 + t + OFF )) --rpc-port $(( 9944 + t + OFF )) \
    --prometheus-port $(( 9615 + t + OFF )) \
    --bootnodes "/ip4/127.0.0.1/tcp/$(( 30333 + OFF ))/p2p/$ALICE_PEER_ID" \
    --no-mdns --no-telemetry \
    >>"$DIR/$name-twin.log" 2>&1 &
  echo $! >"$pidf"
  echo "local-net: started $name's twin (pid $!, rpc $(( 9944 + t + OFF )), log $DIR/$name-twin.log)"
}

stop_twins() {
  local n pid
  for n in "${NAMES[@]}"; do
    [ -f "$DIR/$n-twin.pid" ] || continue
    pid=$(cat "$DIR/$n-twin.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$DIR/$n-twin.pid"
    echo "local-net: stopped $n's twin"
  done
}

stop_node() {
  local name=${ALL[$1]} pidf="$DIR/${ALL[$1]}.pid" pid
  if [ ! -f "$pidf" ]; then
    [ "$1" -lt ${#NAMES[@]} ] && echo "local-net: $name not running"
    return 0
  fi
  pid=$(cat "$pidf")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { echo "local-net: $name ignored SIGTERM, killing"; kill -KILL "$pid"; }
  fi
  rm -f "$pidf"
  echo "local-net: stopped $name"
  local vpid="$DIR/$name-verifier.pid"
  if [ -f "$vpid" ]; then
    kill -TERM "$(cat "$vpid")" 2>/dev/null || true
    rm -f "$vpid"
  fi
}

wait_finalized() { # wait until every running node has finalized >= $1, up to $2 seconds
  local target=$1 deadline=$(( SECONDS + $2 )) i ok
  while [ $SECONDS -lt $deadline ]; do
    ok=1
    for i in "${!ALL[@]}"; do
      [ -f "$DIR/${ALL[$i]}.pid" ] || continue
      [ "$(block_number "$(rpc_port "$i")" finalized)" -ge "$target" ] || { ok=0; break; }
    done
    [ $ok = 1 ] && return 0
    sleep 1
  done
  return 1
}

case "${1:-}" in
  start)
    [ -x "$NODE" ] || die "no agora-node binary at $NODE (build it: cargo build -p agora-node, or set AGORA_NODE)"
    mkdir -p "$DIR"
    for i in "${!NAMES[@]}"; do start_node "$i"; done
    if wait_finalized 2 "${AGORA_NET_START_TIMEOUT:-180}"; then
      echo "local-net: all four validators finalize"
    else
      die "validators did not finalize block 2 in time; see $DIR/*.log"
    fi
    ;;
  stop)
    for i in "${!ALL[@]}"; do stop_node "$i"; done
    stop_twins
    ;;
  add-validator)
    name=${2:-}
    [ -n "${PUBKEY[$name]:-}" ] || die "add-validator takes one of: ${EXTRA[*]}"
    [ -x "$CLIENT" ] || die "no agora client at $CLIENT (set AGORA_CLIENT)"
    i=$(index_of "$name")
    start_node "$i"
    # Wait until it has synced to the network's finalized head.
    target=$(block_number "$(rpc_port 0)" finalized)
    deadline=$(( SECONDS + 120 ))
    until [ "$(block_number "$(rpc_port "$i")" best)" -ge "$target" ]; do
      [ $SECONDS -lt $deadline ] || die "$name did not sync; see $DIR/$name.log"
      sleep 1
    done
    # Key generation runs the runtime (and signs the ownership proof): on a
    # loaded machine, with five nodes importing, it can take well over the 5 s
    # a status query gets (a fresh-clone CI run saw it time out). Only the keys
    # of the last call that answers are set.
    gen=""
    for _ in 1 2 3; do
      gen=$(RPC_TIMEOUT=60 rpc "$(rpc_port "$i")" author_rotateKeysWithOwner "[\"${PUBKEY[$name]}\"]")
      case $gen in *'"proof"'*) break ;; esac
      sleep 2
    done
    keys=$(printf '%s' "$gen" | sed -n 's/.*"keys":"\(0x[0-9a-f]*\)".*/\1/p')
    proof=$(printf '%s' "$gen" | sed -n 's/.*"proof":"\(0x[0-9a-f]*\)".*/\1/p')
    [ -n "$keys" ] && [ -n "$proof" ] || die "author_rotateKeysWithOwner on $name failed: $gen"
    suri="//${name^}"
    url="ws://127.0.0.1:$(rpc_port 0)"
    "$CLIENT" --url "$url" stake set-keys --suri "$suri" --keys "$keys" --proof "$proof"
    "$CLIENT" --url "$url" stake bond --suri "$suri" --amount "${AGORA_NET_BOND:-100000}"
    "$CLIENT" --url "$url" stake validate --suri "$suri"
    echo "local-net: $name bonded and validates; staking elects it at the next era"
    ;;
  start-node) start_node "$(index_of "${2:-}")" ;;
  start-twin) start_twin "$(index_of "${2:-}")" "${3:-}" ;;
  stop-node) stop_node "$(index_of "${2:-}")" ;;
  status)
    for i in "${!ALL[@]}"; do
      [ "$i" -lt ${#NAMES[@]} ] || [ -f "$DIR/${ALL[$i]}.pid" ] || continue
      p=$(rpc_port "$i")
      echo "${ALL[$i]}: best $(block_number "$p" best) finalized $(block_number "$p" finalized)"
    done
    ;;
  *) sed -n '2,43p' "$0"; exit 2 ;;
esac
