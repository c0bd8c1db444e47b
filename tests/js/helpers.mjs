// Starts a real agora-node for a test and connects Polkadot.js to it.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { u8aConcat, u8aToHex } from '@polkadot/util';

export function nodeBinary() {
  if (process.env.AGORA_NODE) return process.env.AGORA_NODE;
  const target = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'agora-target');
  return join(target, 'debug', 'agora-node');
}

/** The `agora` client binary beside the node. */
export function clientBinary() {
  const target = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'agora-target');
  return join(target, 'debug', 'agora');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The port the node's RPC server listens on, read from its log (null until it
 * says): when the free port asked for was taken in the meantime, the node
 * quietly listens on another one. */
function listeningRpcPort(log) {
  const m = readFileSync(log, 'utf8').match(/Running JSON-RPC server: addr=127\.0\.0\.1:(\d+)/);
  return m ? Number(m[1]) : null;
}

/** Spawns `agora-node --dev --tmp` and returns { api, url, stop, logTail }. */
export async function startDevNode() {
  const dir = mkdtempSync(join(tmpdir(), 'agora-js-'));
  const log = join(dir, 'node.log');
  const out = openSync(log, 'w');
  const [rpc, p2p, prom] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(nodeBinary(), [
    '--dev', '--tmp', '--rpc-port', String(rpc), '--port', String(p2p),
    '--prometheus-port', String(prom), '--no-telemetry', '--no-mdns',
  ], { stdio: ['ignore', 'ignore', out] });
  const logTail = () => readFileSync(log, 'utf8').split('\n').slice(-30).join('\n');

  const deadline = Date.now() + 120_000;
  let api;
  let port = null;
  while (!api) {
    if (child.exitCode !== null) throw new Error(`agora-node exited early:\n${logTail()}`);
    if (Date.now() > deadline) throw new Error(`agora-node RPC not up:\n${logTail()}`);
    port = port ?? listeningRpcPort(log);
    if (port === null) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      const provider = new WsProvider(`ws://127.0.0.1:${port}`, false);
      await provider.connect();
      await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('connect timeout')), 2000);
        provider.on('connected', () => { clearTimeout(t); resolve(); });
        provider.on('error', () => { clearTimeout(t); reject(new Error('ws error')); });
      });
      api = await ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
    } catch {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const stop = async () => {
    await api.disconnect().catch(() => {});
    child.kill('SIGTERM');
    await new Promise((r) => { if (child.exitCode !== null) r(); else child.on('exit', r); });
  };
  return { api, url: `ws://127.0.0.1:${port}`, stop, logTail };
}

/** Signs and sends `tx`, resolving with its events once in a block; rejects with
 * `pallet.Error` for a dispatch error. */
export function sendTx(node, tx, signer) {
  const { api, logTail } = node;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not in a block in 60 s\n${logTail()}`)), 60_000);
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        clearTimeout(timer);
        if (dispatchError.isModule) {
          const d = api.registry.findMetaError(dispatchError.asModule);
          reject(new Error(`${d.section}.${d.name}`));
        } else reject(new Error(dispatchError.toString()));
      } else if (status.isInBlock) { clearTimeout(timer); resolve(events); }
    }).catch((e) => { clearTimeout(timer); reject(e); });
  });
}

/** Resolves once the best block is at least `n`. */
export async function waitForBlock(node, n) {
  for (;;) {
    const h = await node.api.rpc.chain.getHeader();
    if (h.number.toNumber() >= n) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Runs every pallet's `try_state` invariants on the chain as the test left it:
 * waits until the current best block is finalized, then re-executes it on its
 * parent's state through the runtime API `TryRuntime_execute_block` (the test
 * build's runtime has it), with `TryStateSelect::All`, and checks that the
 * total issuance there is what the accounts hold. Resolves with the block
 * number; rejects with the runtime's message, or the issuance's difference, if
 * an invariant fails. */
export async function tryState(node) {
  const { api } = node;
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  let hash;
  for (;;) {
    hash = await api.rpc.chain.getFinalizedHead();
    const h = await api.rpc.chain.getHeader(hash);
    if (h.number.toNumber() >= best) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const { block } = await api.rpc.chain.getBlock(hash);
  // The runtime executes the block without its author's seal (as on import).
  const logs = block.header.digest.logs.filter((l) => !l.isSeal);
  const header = api.createType('Header', { ...block.header.toJSON(), digest: { logs } });
  const unsealed = api.createType('Block', { header, extrinsics: block.extrinsics });
  // state_root_check = false, signature_check = false, TryStateSelect::All.
  const args = u8aConcat(unsealed.toU8a(), new Uint8Array([0, 0, 1]));
  await api.rpc.state.call('TryRuntime_execute_block', u8aToHex(args), block.header.parentHash);
  // And at that block: total issuance = Σ (free + reserved) over all accounts
  // (a hold is reserved balance), as `agora try-state` checks it.
  const at = await api.at(hash);
  const issuance = (await at.query.balances.totalIssuance()).toBigInt();
  let sum = 0n;
  const accounts = await at.query.system.account.entries();
  for (const [, info] of accounts) sum += info.data.free.toBigInt() + info.data.reserved.toBigInt();
  if (sum !== issuance) {
    throw new Error(`block ${block.header.number}: total issuance ${issuance} planck, but the ${accounts.length} accounts hold ${sum}`);
  }
  return block.header.number.toNumber();
}
