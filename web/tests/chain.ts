// Playwright's global setup: a real `agora-node --dev` (its RPC on a free
// port, Alice's off-chain worker asking her verifier), `agora-worker serve` as
// Bob, the dev chain's bonded provider, on http://127.0.0.1:8700 (the dev
// offers' endpoint) with the real models, and `agora-worker verifier` on
// 127.0.0.1:8800. The node's URL goes to the tests in AGORA_WS; the returned
// function stops all three.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';

const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'agora-target');
export const bin = (name: string) => join(target, 'debug', name);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, log: string, child: ChildProcess, pattern: RegExp, secs: number) {
  for (let i = 0; i < secs * 2; i++) {
    const text = readFileSync(log, 'utf8');
    if (pattern.test(text)) return;
    if (child.exitCode !== null) throw new Error(`${what} exited:\n${text.split('\n').slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} not ready in ${secs} s:\n${readFileSync(log, 'utf8').split('\n').slice(-20).join('\n')}`);
}

export default async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'agora-web-'));
  const [rpc, p2p, prom] = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const start = (name: string, args: string[]) => {
    const log = join(dir, `${name}.log`);
    const child = spawn(bin(name === 'node' ? 'agora-node' : 'agora-worker'), args,
      { stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')] });
    children.push(child);
    return { child, log };
  };
  const stop = async () => {
    // A node the reconnect test restarted is its child, not ours: by pid.
    const restarted = nodeFile(dir);
    if (existsSync(restarted)) {
      const { pid } = JSON.parse(readFileSync(restarted, 'utf8')) as NodeRun;
      if (children.every((c) => c.pid !== pid)) await killAndWait(pid);
    }
    for (const c of children.reverse()) {
      if (c.exitCode === null) {
        c.kill('SIGTERM');
        await new Promise((r) => c.once('exit', r));
      }
    }
  };
  try {
    const nodeArgs = ['--dev', '--base-path', join(dir, 'chain'), '--rpc-port', String(rpc),
      '--port', String(p2p), '--prometheus-port', String(prom), '--no-telemetry', '--no-mdns',
      '--agora-verifier', 'http://127.0.0.1:8800'];
    const node = start('node', nodeArgs);
    writeFileSync(nodeFile(dir), JSON.stringify({ pid: node.child.pid ?? 0, args: nodeArgs } satisfies NodeRun));
    await waitFor('agora-node', node.log, node.child, /Imported #1\b/, 180);
    // The port the node took, from its log: when the free port asked for was
    // taken in the meantime, the node quietly listens on another one.
    const listening = /Running JSON-RPC server: addr=127\.0\.0\.1:(\d+)/.exec(readFileSync(node.log, 'utf8'));
    const url = `ws://127.0.0.1:${listening ? listening[1] : rpc}`;
    const worker = start('worker', ['serve', '--url', url, '--suri', '//Bob', '--data-dir', join(dir, 'worker'), '--no-progress']);
    const verifier = start('verifier', ['verifier', '--url', url, '--listen', '127.0.0.1:8800']);
    await waitFor('agora-worker serve', worker.log, worker.child, /serving/, 300);
    await waitFor('agora-worker verifier', verifier.log, verifier.child, /verifier up/, 300);
    process.env.AGORA_WS = url;
    process.env.AGORA_LOGS = dir;
  } catch (e) {
    await stop();
    throw e;
  }
  return stop;
}

/** The node's process and arguments, for a test that restarts it. */
interface NodeRun { pid: number; args: string[] }
const nodeFile = (dir: string) => join(dir, 'node.json');

async function killAndWait(pid: number) {
  const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
  if (pid <= 0 || !alive()) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 120 && alive(); i++) await new Promise((r) => setTimeout(r, 250));
}

/**
 * Stops the node (SIGTERM) and starts it again on the same chain, ports and
 * arguments; `whileDown` runs in between. The new node is logged to
 * `node-restarted.log` and stopped by the global teardown.
 */
export async function restartNode(whileDown: () => Promise<void>) {
  const dir = process.env.AGORA_LOGS ?? '';
  const run = JSON.parse(readFileSync(nodeFile(dir), 'utf8')) as NodeRun;
  await killAndWait(run.pid);
  await whileDown();
  const log = join(dir, 'node-restarted.log');
  const child = spawn(bin('agora-node'), run.args, { stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')] });
  writeFileSync(nodeFile(dir), JSON.stringify({ pid: child.pid ?? 0, args: run.args } satisfies NodeRun));
}
