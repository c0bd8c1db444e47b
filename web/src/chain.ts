// The chain connection: Polkadot.js over the node's WebSocket, the `agora_*`
// RPC methods, accounts (a browser extension's, or the dev keyring's on a dev
// chain), transactions whose failures come back as the runtime's own words,
// and signed output reads from providers (docs/protocol.md §6).
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { ISubmittableResult, Signer } from '@polkadot/types/types';
import type { EventRecord } from '@polkadot/types/interfaces';
import { u8aConcat, u8aToHex, stringToU8a, hexToU8a, bnToU8a } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady, decodeAddress, sr25519Verify } from '@polkadot/util-crypto';

export const DECIMALS = 12n;
export const UNIT = 10n ** DECIMALS;
export const SS58 = 4242;

export interface Model {
  id: string; name: string; architecture: string; quantization: string; task: string;
  determinism: { kind: string }; licence: string; publisher: string; royaltyBps: number; deprecated: boolean;
}
export interface Listing {
  offerId: number; provider: string; modelId: string; reputation: number; rankingPpm: number;
  averageRating: number; ratings: number; subscribers: number; finalizedJobs: number; expiries: number;
  fraud: boolean; stake: string; basePrice: string; pricePer1kTokens: string; capacity: number;
  endpoint: string; active: boolean;
}
export interface Quote {
  offers: number; cheapest: { offerId: number; price: string }; median: string;
  bestRanked: { offerId: number; price: string };
}

/** An account the page can sign with. */
export interface Account {
  address: string;
  name: string;
  /** `dev` (the dev keyring, only on a dev chain) or the extension's name. */
  source: string;
  pair?: KeyringPair;
  signer?: Signer;
}

export class Chain {
  readonly api: ApiPromise;
  readonly url: string;
  readonly isDev: boolean;
  private readonly ws: WsProvider;
  private constructor(api: ApiPromise, ws: WsProvider, url: string, isDev: boolean) {
    this.api = api;
    this.ws = ws;
    this.url = url;
    this.isDev = isDev;
  }

  /** Connects, or rejects with a sentence after `timeoutMs`. */
  static async connect(url: string, timeoutMs = 15_000): Promise<Chain> {
    await cryptoWaitReady();
    // Reconnects on its own (every 2.5 s) after the node goes away; the API
    // then renews every subscription.
    const provider = new WsProvider(url, 2_500);
    const api = await new Promise<ApiPromise>((resolve, reject) => {
      const timer = setTimeout(() => {
        provider.disconnect().catch(() => {});
        reject(new Error(`no Agora node answered at ${url} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true })
        .then((api) => { clearTimeout(timer); resolve(api); })
        .catch((e) => { clearTimeout(timer); reject(e); });
    });
    const chainType = (await api.rpc.system.chainType()).toString();
    if (!api.tx.jobs || !api.tx.verification) {
      await api.disconnect();
      throw new Error(`${url} is not an Agora chain (no jobs or verification pallet)`);
    }
    return new Chain(api, provider, url, chainType === 'Development' || chainType === 'Local');
  }

  /** An `agora_*` method (node/src/agora_rpc.rs). */
  rpc<T>(method: string, params: unknown[] = []): Promise<T> {
    return this.ws.send<T>(method, params);
  }

  models(): Promise<Model[]> { return this.rpc('agora_models'); }
  /** The model's offers ranked as `agora_providers` ranks them. */
  providers(modelId: string): Promise<Listing[]> { return this.rpc('agora_providers', [modelId, 'rank']); }
  quote(modelId: string, maxTokens: number): Promise<Quote | null> {
    return this.rpc('agora_quote', [modelId, maxTokens]);
  }

  /** Dev keyring accounts, on a dev or local chain only. */
  devAccounts(): Account[] {
    if (!this.isDev) return [];
    const keyring = new Keyring({ type: 'sr25519', ss58Format: SS58 });
    return ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'].map((n) => {
      const pair = keyring.addFromUri(`//${n}`, { name: n });
      return { address: pair.address, name: `${n} (dev)`, source: 'dev', pair };
    });
  }

  /** Signs and sends `tx` as `who`; resolves with the block number and the
   * events once in a block, rejects with the runtime's words for its error. */
  send(tx: SubmittableExtrinsic<'promise'>, who: Account): Promise<{ block: number; events: EventRecord[] }> {
    const api = this.api;
    return new Promise((resolve, reject) => {
      let unsub: (() => void) | undefined;
      const done = () => unsub?.();
      const cb = async (result: ISubmittableResult) => {
        const { status, events, dispatchError } = result;
        if (status.isInBlock) {
          done();
          if (dispatchError) return reject(new Error(describeError(this, dispatchError)));
          const header = await api.rpc.chain.getHeader(status.asInBlock);
          resolve({ block: header.number.toNumber(), events: events as EventRecord[] });
        } else if (status.isDropped || status.isInvalid || status.isUsurped) {
          done();
          reject(new Error(`the transaction was ${status.type.toLowerCase()} by the node's pool`));
        }
      };
      const sent = who.pair
        ? tx.signAndSend(who.pair, cb)
        : tx.signAndSend(who.address, { signer: who.signer }, cb);
      sent.then((u) => { unsub = u; }).catch((e: Error) => reject(new Error(poolError(e))));
    });
  }

  /** Fetches job `jobId`'s output from its provider, signed by the client
   * `who` (a read request, `agora/read/v1`), and checks its blake2-256 against
   * the receipt's `output_hash`. */
  async fetchOutput(jobId: number, endpoint: string, outputHash: string, who: Account): Promise<Output> {
    const atMs = BigInt(Date.now());
    // b"agora/read/v1" ++ SCALE((u64 job_id, u64 at_ms)): ReadRequest in
    // pallets/primitives/src/jobs.rs.
    const payload = u8aConcat(
      stringToU8a('agora/read/v1'),
      bnToU8a(BigInt(jobId), { bitLength: 64, isLe: true }),
      bnToU8a(atMs, { bitLength: 64, isLe: true }),
    );
    let signature: string;
    if (who.pair) {
      signature = u8aToHex(who.pair.sign(payload));
    } else if (who.signer?.signRaw) {
      // A wallet signs `<Bytes>payload</Bytes>`; workers accept that form.
      ({ signature } = await who.signer.signRaw({ address: who.address, data: u8aToHex(payload), type: 'bytes' }));
    } else {
      throw new Error(`${who.name} cannot sign a read request (its wallet has no signRaw)`);
    }
    const key = u8aToHex(decodeAddress(who.address)).slice(2);
    const header = `${key}:${atMs}:${signature.slice(2)}`;
    const url = `${endpoint.replace(/\/$/, '')}/v1/jobs/${jobId}/output`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { 'x-agora-read': header } });
    } catch (e) {
      throw new Error(`the provider's API at ${endpoint} cannot be reached (${(e as Error).message})`);
    }
    if (!res.ok) {
      const why = await res.json().then((j) => j.error as string).catch(() => res.statusText);
      throw new Error(`the provider refused the output (HTTP ${res.status}): ${why}`);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    const hash = blake2AsHex(bytes, 256);
    const kind = res.headers.get('x-agora-output-kind') ?? 'text';
    return { bytes, hash, kind, verified: hash === outputHash };
  }
}

export interface Output { bytes: Uint8Array; hash: string; kind: string; verified: boolean }

/** Uploads job `jobId`'s by-hash input to its provider (`PUT
 * /v1/inputs?job=…`) and returns the provider's upload receipt, checked: the
 * job's worker key signed `b"agora/upload/v1" ++ SCALE((u64 job_id, [u8; 32]
 * input_hash))` (UploadReceipt in pallets/primitives/src/jobs.rs). The worker
 * takes the input only once it sees the job on chain, so a 409 is retried
 * for a while, as the CLI does. */
export async function uploadInput(jobId: number, endpoint: string, input: Uint8Array, workerKey: string): Promise<string> {
  const url = `${endpoint.replace(/\/$/, '')}/v1/inputs?job=${jobId}`;
  const payload = u8aConcat(
    stringToU8a('agora/upload/v1'),
    bnToU8a(BigInt(jobId), { bitLength: 64, isLe: true }),
    hexToU8a(blake2AsHex(input, 256)),
  );
  let last = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 2_000));
    let res: Response;
    try {
      res = await fetch(url, { method: 'PUT', body: input as BodyInit });
    } catch (e) {
      last = `the provider's API at ${endpoint} cannot be reached (${(e as Error).message})`;
      continue;
    }
    const body = await res.json().catch(() => ({})) as { upload_receipt?: string; error?: string };
    if (res.status === 409) { last = `HTTP 409: ${body.error ?? res.statusText}`; continue; }
    if (!res.ok) throw new Error(`the provider refused the input (HTTP ${res.status}): ${body.error ?? res.statusText}`);
    const sig = body.upload_receipt;
    if (!sig) throw new Error('the provider took the input but signed no upload receipt');
    if (!sr25519Verify(payload, hexToU8a(sig.startsWith('0x') ? sig : `0x${sig}`), hexToU8a(workerKey))) {
      throw new Error("the provider took the input, but its upload receipt is not signed by the job's worker key");
    }
    return sig.startsWith('0x') ? sig : `0x${sig}`;
  }
  throw new Error(`could not upload the input to ${url}: ${last}`);
}

/** The runtime's documentation of a dispatch error: "jobs.NotClient: The
 * caller is not the job's client." rather than a module index and code. */
export function describeError(chain: Chain, err: import('@polkadot/types/interfaces').DispatchError): string {
  if (err.isModule) {
    const m = chain.api.registry.findMetaError(err.asModule);
    const words = m.docs.join(' ').trim();
    return `${m.section}.${m.name}${words ? `: ${words}` : ''}`;
  }
  if (err.isToken) return `token error: ${err.asToken.type} (the account cannot pay this)`;
  if (err.isArithmetic) return `arithmetic error: ${err.asArithmetic.type}`;
  if (err.isBadOrigin) return 'this account may not make this call';
  return err.type;
}

/** A pool refusal in words ("1010: Invalid Transaction: Inability to pay some
 * fees" → "the account cannot pay the transaction fee"). */
function poolError(e: Error): string {
  const m = e.message;
  if (/Inability to pay some fees/i.test(m)) return 'the account cannot pay the transaction fee (balance too low)';
  if (/Cancelled|rejected/i.test(m)) return 'the signature was refused in the wallet';
  return m.replace(/^\d+: /, '');
}

/** Planck as AGR with up to 6 decimals: 1160000000 → "0.00116 AGR". */
export function agr(planck: bigint | string | number | { toString(): string }): string {
  const v = BigInt(planck.toString());
  const neg = v < 0n;
  const a = neg ? -v : v;
  const whole = a / UNIT;
  const frac = (a % UNIT).toString().padStart(Number(DECIMALS), '0').slice(0, 6).replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole.toLocaleString('en-US')}${frac ? `.${frac}` : ''} AGR`;
}

/** Planck as an exact AGR decimal for an input field: 1480000001 →
 * "0.001480000001" (no rounding, so a quoted price is never lowered). */
export function agrExact(planck: bigint | string): string {
  const v = BigInt(planck.toString());
  const frac = (v % UNIT).toString().padStart(Number(DECIMALS), '0').replace(/0+$/, '');
  return `${v / UNIT}${frac ? `.${frac}` : ''}`;
}

/** "1.5" (AGR) → planck, or an error naming the bad text. */
export function parseAgr(s: string): bigint {
  const m = /^\s*(\d+)(?:\.(\d{0,12}))?\s*$/.exec(s);
  if (!m) throw new Error(`"${s}" is not an amount in AGR (e.g. 0.05)`);
  return BigInt(m[1]) * UNIT + BigInt((m[2] ?? '').padEnd(12, '0'));
}

export const short = (a: string) => (a.length > 14 ? `${a.slice(0, 6)}…${a.slice(-6)}` : a);
export { hexToU8a };
