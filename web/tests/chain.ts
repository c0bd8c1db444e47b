// Playwright's global setup: a real `agora-node --dev` (its RPC on a free
// port, Alice's off-chain worker asking her verifier), `agora-worker serve` as
// Bob, the dev chain's bonded provider, on http://127.0.0.1:8700 (the dev
// offers' endpoint) with the real models, and `agora-worker verifier` on
// 127.0.0.1:8800. The node's URL goes to the tests in AGORA_WS; the returned
// function stops all three.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
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

/** Listens on 127.0.0.1:`port` (nothing answers) until closed. */
function hold(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
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
    // A node or worker a test restarted is its child, not ours: by pid.
    for (const name of ['node', 'worker'] as const) {
      const file = runFile(dir, name);
      if (!existsSync(file)) continue;
      const { pid } = JSON.parse(readFileSync(file, 'utf8')) as Run;
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
    // The port asked for is held on 127.0.0.1 while the node starts, as
    // another process held it in a CI run: the node then listens on another
    // IPv4 port, and the page and the node restart below must follow that one.
    const blocker = await hold(rpc);
    const node = start('node', nodeArgs);
    try {
      await waitFor('agora-node', node.log, node.child, /Imported #1\b/, 180);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    // The port the node took instead, from its log. A restart asks for the
    // port the page knows, so it is kept in the args.
    const port = rpcPort(node.log);
    if (port === undefined || port === rpc) throw new Error(`the node listens on ${port ?? 'no port it logged'}, not on another than the held ${rpc}: the restart test would test nothing`);
    nodeArgs[nodeArgs.indexOf('--rpc-port') + 1] = String(port);
    writeFileSync(runFile(dir, 'node'), JSON.stringify({ pid: node.child.pid ?? 0, args: nodeArgs } satisfies Run));
    const url = `ws://127.0.0.1:${port}`;
    const workerArgs = ['serve', '--url', url, '--suri', '//Bob', '--data-dir', join(dir, 'worker'), '--no-progress'];
    const worker = start('worker', workerArgs);
    writeFileSync(runFile(dir, 'worker'), JSON.stringify({ pid: worker.child.pid ?? 0, args: workerArgs } satisfies Run));
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

/** The IPv4 port of the node's JSON-RPC server, from its log, once it says. */
function rpcPort(log: string): number | undefined {
  const m = /Running JSON-RPC server: addr=127\.0\.0\.1:(\d+)/.exec(readFileSync(log, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

/** The node's or Bob's worker's process and (first) arguments, for a test
 * that restarts it. */
interface Run { pid: number; args: string[] }
const runFile = (dir: string, name: 'node' | 'worker') => join(dir, `${name}.json`);

/** Stops `name` (SIGTERM, by the pid in its run file), runs `whileDown`,
 * starts it again with its first arguments and `extra`, logged to `log`, and
 * records the new pid (with the first arguments) for the next restart and the
 * teardown. */
async function respawn(dir: string, name: 'node' | 'worker', log: string, extra: string[],
  whileDown: () => Promise<void> = async () => {}) {
  const run = JSON.parse(readFileSync(runFile(dir, name), 'utf8')) as Run;
  await killAndWait(run.pid);
  await whileDown();
  const child = spawn(bin(`agora-${name}`), [...run.args, ...extra], { stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')] });
  writeFileSync(runFile(dir, name), JSON.stringify({ pid: child.pid ?? 0, args: run.args } satisfies Run));
  return { run, child };
}

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
  const log = join(dir, 'node-restarted.log');
  const { run, child } = await respawn(dir, 'node', log, [], whileDown);
  // The page reconnects to the URL it has: a node that had to take another
  // port (its own was taken while it was down) could never be found, so say so.
  const wanted = Number(run.args[run.args.indexOf('--rpc-port') + 1]);
  await waitFor('restarted agora-node', log, child, /Running JSON-RPC server: addr=/, 180);
  const port = rpcPort(log);
  if (port !== wanted) throw new Error(`the restarted node listens on ${port}, not on ${wanted}, its port before the restart (taken meanwhile)`);
}

let workerStarts = 0;

/**
 * Stops Bob's worker (SIGTERM) and starts it again on the same data directory
 * with its first arguments and `extra` (e.g. a test build's `--cheat`); waits
 * until it serves. Logged to `worker-<n>.log`, stopped by the global teardown.
 */
export async function restartWorker(extra: string[] = []) {
  const dir = process.env.AGORA_LOGS ?? '';
  const log = join(dir, `worker-${++workerStarts}.log`);
  const { child } = await respawn(dir, 'worker', log, extra);
  await waitFor('restarted agora-worker serve', log, child, /serving/, 300);
  return log;
}
