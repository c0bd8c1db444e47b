// The account's jobs, watched live: every step comes from a chain event, with
// the block it landed in; outputs are fetched from the provider (a signed read)
// and checked against the receipt's hash; rate, dispute and cancel from here.
// An input sent by hash is uploaded to the provider from here, and the
// provider's signed upload receipt is kept (in this browser's storage) to
// contest a false report that the input never came.
import type { EventRecord } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import { Chain, agr, short, uploadInput, type Account } from './chain';
import { el, busy, notice } from './dom';

interface Step { block: number; text: string; kind: string }
interface JobView {
  id: number;
  client: string;
  modelId: string;
  status: string;
  provider: string;
  offerId: number;
  submittedAt: number;
  receipt?: { outputHash: string; outputTokens: number; at: number; windowEnd: number };
  workerKey: string;
  charge?: bigint;
  rating?: number;
  steps: Step[];
  output?: { body: string; verified: boolean; hash: string };
  audited: boolean;
}

/** An event's named fields. */
function fields(record: EventRecord): Record<string, Codec> {
  const { data } = record.event;
  const names = (data as unknown as { names?: string[] }).names ?? [];
  return Object.fromEntries(names.map((n, i) => [n, data[i]]));
}

const num = (c: Codec | undefined) => Number(c?.toString() ?? 0);
const big = (c: Codec | undefined) => BigInt(c?.toString() ?? 0);

/** A stored job (`Option<Job>`) as the page shows it; undefined for None. */
function toView(id: number, opt: Codec): JobView | undefined {
  if ((opt as unknown as { isNone: boolean }).isNone) return undefined;
  const j = (opt as unknown as { unwrap(): Record<string, Codec & Record<string, Codec>> }).unwrap();
  const r = j.receipt as unknown as { isSome: boolean; unwrap(): Record<string, Codec> };
  const charge = j.charge as unknown as { isSome: boolean; unwrap(): Codec };
  const rating = j.rating as unknown as { isSome: boolean; unwrap(): Codec };
  return {
    id,
    client: j.client.toString(),
    modelId: j.modelId.toHex(),
    status: j.status.toString(),
    provider: j.provider.toString(),
    offerId: num(j.offerId),
    workerKey: j.workerKey.toHex(),
    submittedAt: num(j.submittedAt),
    receipt: r.isSome ? {
      outputHash: r.unwrap().outputHash.toHex(),
      outputTokens: num(r.unwrap().outputTokens),
      at: num(r.unwrap().at),
      windowEnd: num(r.unwrap().windowEnd),
    } : undefined,
    charge: charge.isSome ? big(charge.unwrap()) : undefined,
    rating: rating.isSome ? num(rating.unwrap()) : undefined,
    steps: [],
    audited: false,
  };
}

export class Jobs {
  private jobs = new Map<number, JobView>();
  /** Jobs being added (the order's own result and its event may race). */
  private adding = new Map<number, Promise<void>>();

  constructor(
    private chain: Chain,
    private account: () => Account | undefined,
    private modelName: (id: string) => string,
    private auditRatePpm: () => number,
  ) {}

  private get list() { return document.querySelector('#job-list') as HTMLElement; }

  /** Loads the account's jobs still on chain (they are pruned `RETENTION`
   * blocks after they end); their past steps come from the stored job. */
  async load(): Promise<void> {
    this.jobs.clear();
    const who = this.account();
    if (who) {
      for (const [key, value] of await this.chain.api.query.jobs.jobs.entries()) {
        const view = toView(Number(key.args[0].toString()), value);
        if (!view || view.client !== who.address) continue;
        view.steps.push({ block: view.submittedAt, text: 'Assigned (ordered before this page opened)', kind: 'assigned' });
        if (view.receipt) view.steps.push({ block: view.receipt.at, text: `Receipted: ${view.receipt.outputTokens} tokens billed`, kind: 'receipted' });
        if (view.status === 'Finalized' && view.charge !== undefined) view.steps.push({ block: view.receipt?.windowEnd ?? 0, text: `Finalized: charged ${agr(view.charge)}`, kind: 'finalized' });
        this.jobs.set(view.id, view);
      }
    }
    this.render();
  }

  /** The job as stored now (keeping what `prev` saw), or `prev` once pruned. */
  private async read(id: number, prev?: JobView): Promise<JobView | undefined> {
    const view = toView(id, await this.chain.api.query.jobs.jobs(id));
    if (!view) return prev;
    return { ...view, steps: prev?.steps ?? [], output: prev?.output, audited: prev?.audited ?? false };
  }

  /** A job this page just ordered; resolves once it is shown (the order's own
   * result and its JobAssigned event race to add it: the second waits for
   * the first). */
  track(id: number, block: number, text?: string): Promise<void> {
    if (this.jobs.has(id)) return Promise.resolve();
    const pending = this.adding.get(id);
    if (pending) return pending;
    const adding = (async () => {
      const view = await this.read(id);
      if (!view) return;
      view.steps.push({ block, text: text ?? `Assigned to ${short(view.provider)}`, kind: 'assigned' });
      this.jobs.set(id, view);
      this.render();
    })().finally(() => this.adding.delete(id));
    this.adding.set(id, adding);
    return adding;
  }

  /** The endpoint of the offer that took job `j`. */
  private async endpoint(j: JobView): Promise<string> {
    const offers = await this.chain.rpc<{ id: number; endpoint: string }[]>('agora_offers', [j.modelId]);
    const offer = offers.find((o) => o.id === j.offerId);
    if (!offer) throw new Error(`offer ${j.offerId} is gone: its endpoint is unknown`);
    return offer.endpoint;
  }

  /** Where this browser keeps job `id`'s upload receipt (per chain). */
  private uploadKey(id: number): string {
    return `agora-upload-${this.chain.api.genesisHash.toHex()}-${id}`;
  }

  /** Uploads job `id`'s by-hash input to its provider and keeps the checked
   * upload receipt, so a false "input never came" can be contested (also
   * after a reload). */
  async upload(id: number, input: Uint8Array): Promise<void> {
    const j = this.jobs.get(id);
    if (!j) return notice(`job ${id}: not shown on this page, so its input was not uploaded`, 'error');
    try {
      const sig = await uploadInput(id, await this.endpoint(j), input, j.workerKey);
      localStorage.setItem(this.uploadKey(id), sig);
      j.steps.push({ block: j.submittedAt, text: `Input uploaded to the provider: upload receipt ${short(sig)}, signed by the job's worker key ✓`, kind: 'uploaded' });
    } catch (e) {
      j.steps.push({ block: j.submittedAt, text: `Input not uploaded: ${(e as Error).message}`, kind: 'upload-failed' });
      notice(`job ${id}: ${(e as Error).message}`, 'error');
    }
    this.render();
  }

  /** A new block's events: each one about a job shown here becomes a step. */
  async onEvents(block: number, records: EventRecord[]): Promise<void> {
    const who = this.account();
    const touched = new Set<number>();
    for (const record of records) {
      const { section, method } = record.event;
      if (section !== 'jobs' && section !== 'verification') continue;
      const f = fields(record);
      if (!f.jobId) continue;
      const id = num(f.jobId);
      if (method === 'JobAssigned' && who && f.client.toString() === who.address && !this.jobs.has(id)) {
        const by = f.byAvrf?.toString() === 'true' ? 'drawn by AVRF' : 'named by the client';
        await this.track(id, block, `Assigned to ${short(f.provider.toString())} (${by}), ${agr(big(f.maxPrice))} held in escrow`);
        continue;
      }
      const view = this.jobs.get(id);
      if (!view) continue;
      const text = this.describe(method, f);
      if (text) view.steps.push({ block, text, kind: method });
      if (['AuditStarted', 'AuditPassed', 'JobFraud'].includes(method)) view.audited = true;
      touched.add(id);
    }
    for (const id of touched) {
      const prev = this.jobs.get(id);
      if (!prev) continue;
      const fresh = await this.read(id, prev);
      if (!fresh) continue;
      if (fresh.status === 'Finalized' && !fresh.audited && !fresh.steps.some((s) => s.kind === 'audit-none')) {
        const ppm = this.auditRatePpm();
        const text = `Not drawn for audit (AUDIT_RATE ${(ppm / 10_000).toFixed(1)} %) and not disputed: accepted when its window closed`;
        fresh.steps.splice(fresh.steps.length - 1, 0, { block, text, kind: 'audit-none' });
      }
      this.jobs.set(id, fresh);
    }
    if (touched.size) this.render();
  }

  private describe(method: string, f: Record<string, Codec>): string | undefined {
    const me = this.account()?.address;
    const who = (a: Codec | undefined) => (a?.toString() === me ? 'you' : short(a?.toString() ?? ''));
    switch (method) {
      case 'JobAcknowledged': return 'Acknowledged by the provider: running the model';
      case 'JobReceipted': return `Receipted: ${num(f.outputTokens)} tokens billed, output ${short(f.outputHash.toHex())}; disputable until block ${num(f.finalizeAt)}`;
      case 'Disputed': return `Disputed by ${who(f.challenger)}, bonding ${agr(big(f.bond))}`;
      case 'AuditStarted': {
        const committee = (f.committee as unknown as Codec[]).map((c) => who(c)).join(', ');
        return `${f.challenger?.toString() ? 'Dispute' : 'Audit drawn'}: committee ${committee} re-checks the output against the model by block ${num(f.voteDeadline)}`;
      }
      case 'Voted': return `Vote: ${f.vote.toString()} by ${who(f.validator)}`;
      case 'AuditPassed': return `Verified by the committee: the receipt stands (the challenger's bond: ${agr(big(f.bondToProvider))} to the provider, ${agr(big(f.bondToTreasury))} to the treasury)`;
      case 'JobFraud': return `Fraud found (${f.reason.toString()}): ${agr(big(f.refunded))} refunded to the client, ${agr(big(f.slashed))} slashed from the provider, ${agr(big(f.toChallenger))} to the challenger`;
      case 'AuditRedrawn': return `No majority: ${(f.struck as unknown as Codec[]).length} silent member(s) struck and replaced, the check runs until block ${num(f.voteDeadline)}`;
      case 'AuditTimedOut': return `Unverified: no majority in time; ${agr(big(f.refunded))} refunded`;
      case 'JobFinalized': return `Finalized and paid: charged ${agr(big(f.charge))} — provider ${agr(big(f.toProvider))}, protocol fee ${agr(big(f.fee))}, royalty ${agr(big(f.royalty))}, ${agr(big(f.refunded))} refunded to the client`;
      case 'JobExpired': return `Expired without a receipt: ${agr(big(f.refunded))} refunded, ${agr(big(f.slashed))} slashed from the provider`;
      case 'JobCancelled': return `Cancelled: ${agr(big(f.refunded))} refunded`;
      case 'JobRated': return `Rated ${num(f.rating) > 0 ? '+1' : num(f.rating) < 0 ? '−1' : '0'} by ${who(f.client)}`;
      case 'InputMissing': return 'The provider reports the input was never delivered';
      case 'InputReportContested': return `The report was false (contested with the upload receipt): ${agr(big(f.compensated))} back to you out of the provider's bond, ${agr(big(f.slashed))} slashed`;
      default: return undefined;
    }
  }

  render(): void {
    const cards = [...this.jobs.values()].sort((a, b) => b.id - a.id).map((j) => this.card(j));
    this.list.replaceChildren(...(cards.length ? cards : [el('p', { class: 'hint' }, 'No jobs yet: order one on the Market page.')]));
  }

  private card(j: JobView): HTMLElement {
    const id = `job-${j.id}`;
    const action = (name: string, label: string, f: () => Promise<void>) => {
      const b = el('button', { type: 'button', 'data-testid': `${id}-${name}` }, label);
      b.addEventListener('click', () => busy(b, f));
      return b;
    };
    const actions: HTMLElement[] = [];
    const now = j.status;
    if (j.receipt && !['Cancelled', 'Expired'].includes(now)) actions.push(action('fetch', 'Fetch output', () => this.fetch(j.id)));
    if (now === 'Receipted') actions.push(action('dispute', 'Dispute (bond)', () => this.tx(j.id, this.chain.api.tx.verification.dispute(j.id))));
    if (now === 'Assigned') actions.push(action('cancel', 'Cancel', () => this.tx(j.id, this.chain.api.tx.jobs.cancelJob(j.id))));
    const upload = localStorage.getItem(this.uploadKey(j.id));
    if (now === 'InputMissing' && upload) {
      actions.push(action('contest', 'Contest: show the upload receipt', () => this.tx(j.id, this.chain.api.tx.jobs.contestInputMissing(j.id, upload))));
    }
    if (now === 'Finalized' && j.rating === undefined) {
      actions.push(action('rate-up', 'Rate +1', () => this.tx(j.id, this.chain.api.tx.jobs.rate(j.id, 1))));
      actions.push(action('rate-down', 'Rate −1', () => this.tx(j.id, this.chain.api.tx.jobs.rate(j.id, -1))));
    }
    const output = j.output ? el('div', { 'data-testid': `${id}-output` },
      el('pre', {}, j.output.body),
      j.output.verified
        ? el('span', { class: 'verified', 'data-testid': `${id}-verified` }, `verified ✓ blake2-256 ${short(j.output.hash)} matches the receipt`)
        : el('span', { class: 'mismatch', 'data-testid': `${id}-verified` }, `hash mismatch ✗ ${short(j.output.hash)} is not the receipt's hash: dispute it`))
      : null;
    return el('article', { class: 'job', 'data-testid': id },
      el('h3', {}, `Job ${j.id} · ${this.modelName(j.modelId)} · `,
        el('span', { class: 'status', 'data-testid': `${id}-status` }, j.status),
        j.charge !== undefined ? el('span', { 'data-testid': `${id}-charge` }, ` · charged ${agr(j.charge)}`) : null),
      el('ol', { 'data-testid': `${id}-steps` }, ...j.steps.map((s) => el('li', { 'data-kind': s.kind }, `block ${s.block}: ${s.text}`))),
      output,
      el('div', { class: 'row' }, ...actions));
  }

  private async tx(id: number, call: Parameters<Chain['send']>[0]): Promise<void> {
    const who = this.account();
    if (!who) throw new Error('choose an account first');
    const { block } = await this.chain.send(call, who);
    notice(`job ${id}: ${call.method.method} included in block ${block}`, 'ok');
  }

  /** Fetches the output from the provider's endpoint and checks its hash. */
  private async fetch(id: number): Promise<void> {
    const who = this.account();
    const j = this.jobs.get(id);
    if (!who || !j?.receipt) throw new Error('nothing to fetch yet');
    const out = await this.chain.fetchOutput(id, await this.endpoint(j), j.receipt.outputHash, who);
    j.output = { body: render(out.bytes, out.kind, j.receipt.outputTokens), verified: out.verified, hash: out.hash };
    this.render();
  }
}

/** A served output as words: a generation's text (and whether its token ids
 * match the billed count), an embedding's size and first values, an error. */
function render(bytes: Uint8Array, kind: string, billed: number): string {
  if (kind === 'embedding') {
    const v = new Float32Array(bytes.slice().buffer, 0, Math.floor(bytes.length / 4));
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return `embedding of ${v.length} dimensions, norm ${norm.toFixed(3)}: [${[...v.slice(0, 6)].map((x) => x.toFixed(4)).join(', ')}, …]`;
  }
  const text = new TextDecoder().decode(bytes);
  if (kind === 'text') {
    try {
      const g = JSON.parse(text) as { text: string; tokens: number[] };
      const billing = g.tokens.length === billed ? `${billed} tokens, as billed` : `${g.tokens.length} tokens served but ${billed} billed: dispute it`;
      return `${g.text}\n\n(${billing})`;
    } catch { return text; }
  }
  return `${kind}: ${text}`;
}
