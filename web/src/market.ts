// The market: models, their providers ranked as the chain ranks them, quotes,
// and ordering a job paid from escrow (its input on chain, or by hash), or one
// job per line in one transaction.
import { Chain, agr, agrExact, describeError, parseAgr, short, type Account, type Model } from './chain';
import { $, el, busy, notice } from './dom';
import { stringToU8a } from '@polkadot/util';
import { blake2AsHex } from '@polkadot/util-crypto';

export class Market {
  models: Model[] = [];
  private selected = '';

  constructor(
    private chain: Chain,
    private account: () => Account | undefined,
    private onOrdered: (jobId: number, block: number, byHash?: Uint8Array) => void,
  ) {
    $('#quote').addEventListener('click', (e) => busy(e.currentTarget as HTMLButtonElement, () => this.quote()));
    $('#order').addEventListener('submit', (e) => {
      e.preventDefault();
      const button = (e.currentTarget as HTMLFormElement).querySelector<HTMLButtonElement>('button[type=submit]');
      busy(button, () => this.submit());
    });
    $('#order-model').addEventListener('change', () => this.select(this.modelSelect.value));
  }

  private get modelSelect() { return $<HTMLSelectElement>('#order-model'); }

  modelName(id: string): string { return this.models.find((m) => m.id === id)?.name ?? short(id); }

  /** Reloads models and the selected model's providers (on connect, and when
   * a block carries a models, slashing, reputation or finalization event). */
  async refresh(): Promise<void> {
    this.models = await this.chain.models();
    const body = $('[data-testid=models] tbody');
    body.replaceChildren(...this.models.map((m) => {
      const pick = el('button', { type: 'button', 'data-testid': `providers-${m.name}` }, 'Providers');
      pick.addEventListener('click', () => this.select(m.id));
      return el('tr', { 'data-model': m.name, class: m.id === this.selected ? 'selected' : '' },
        el('td', {}, m.name, m.deprecated ? ' (deprecated)' : ''),
        el('td', {}, m.task),
        el('td', {}, `${m.architecture} ${m.quantization}`),
        el('td', {}, m.determinism.kind),
        el('td', {}, m.licence),
        el('td', {}, `${(m.royaltyBps / 100).toFixed(2)} %`),
        el('td', {}, pick));
    }));
    const keep = this.modelSelect.value;
    this.modelSelect.replaceChildren(...this.models.filter((m) => !m.deprecated)
      .map((m) => el('option', { value: m.id }, m.name)));
    if (keep) this.modelSelect.value = keep;
    if (!this.selected && this.models.length) this.selected = this.modelSelect.value;
    await this.renderProviders();
  }

  async select(id: string): Promise<void> {
    this.selected = id;
    this.modelSelect.value = id;
    for (const tr of document.querySelectorAll('[data-testid=models] tbody tr')) {
      tr.classList.toggle('selected', tr.getAttribute('data-model') === this.modelName(id));
    }
    $('#quote-out').textContent = '';
    await this.renderProviders();
  }

  private async renderProviders(): Promise<void> {
    const body = $('[data-testid=providers] tbody');
    if (!this.selected) { body.replaceChildren(); return; }
    $('#providers-of').textContent = `of ${this.modelName(this.selected)}`;
    const list = await this.chain.providers(this.selected);
    body.replaceChildren(...list.map((p, i) => el('tr', { 'data-provider': p.provider },
      el('td', {}, i + 1),
      el('td', { title: p.provider }, short(p.provider)),
      el('td', {}, p.reputation.toFixed(1)),
      el('td', {}, p.ratings ? `${p.averageRating.toFixed(2)} (${p.ratings})` : 'none yet'),
      el('td', {}, p.subscribers),
      el('td', {}, agr(p.stake)),
      el('td', {}, `${agr(p.basePrice)} + ${agr(p.pricePer1kTokens)}`),
      el('td', {}, `${p.finalizedJobs} finalized, ${p.expiries} expired`),
      el('td', {}, p.fraud ? 'yes' : 'no'),
      el('td', {}, p.endpoint))));
    if (!list.length) body.append(el('tr', {}, el('td', { colspan: '10' }, 'No provider offers this model.')));
  }

  private maxTokens(): number {
    const n = Number($<HTMLInputElement>('#order-max-tokens').value);
    if (!Number.isInteger(n) || n < 1) throw new Error('max tokens must be a whole number of at least 1');
    return n;
  }

  /** `agora_quote` for the form's model and max tokens; fills in a max price
   * that lets every quoted provider (up to the best-ranked one) take the job. */
  async quote(): Promise<void> {
    const q = await this.chain.quote(this.modelSelect.value, this.maxTokens());
    if (!q) throw new Error(`no active offer for ${this.modelName(this.modelSelect.value)}`);
    const top = [BigInt(q.cheapest.price), BigInt(q.median), BigInt(q.bestRanked.price)].reduce((a, b) => (a > b ? a : b));
    $('#quote-out').textContent = `${q.offers} offer(s): cheapest ${agr(q.cheapest.price)}, median ${agr(q.median)}, best-ranked ${agr(q.bestRanked.price)}`;
    const price = $<HTMLInputElement>('#order-max-price');
    price.value = agrExact(top);
  }

  private async submit(): Promise<void> {
    const who = this.account();
    if (!who) throw new Error('choose an account first');
    const input = $<HTMLTextAreaElement>('#order-input').value;
    if (!input.trim()) throw new Error('the input is empty: write the prompt or the text to embed');
    const temperature = Number($<HTMLInputElement>('#order-temperature').value || '0');
    if (!(temperature >= 0 && temperature <= 2)) throw new Error('temperature must be between 0 and 2');
    const seed = Number($<HTMLInputElement>('#order-seed').value || '0');
    const priceText = $<HTMLInputElement>('#order-max-price').value;
    if (!priceText.trim()) throw new Error('set a max price, or press Quote to fill one in');
    const maxPrice = parseAgr(priceText);
    const api = this.chain.api;
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    const byHash = $<HTMLInputElement>('#order-by-hash').checked;
    const params = { maxTokens: this.maxTokens(), temperatureMilli: Math.round(temperature * 1000), seed };
    if ($<HTMLInputElement>('#order-each-line').checked) {
      if (byHash) throw new Error('one job per line puts each line on chain: order by hash one job at a time');
      return this.submitLines(input, params, maxPrice, best + 100, who);
    }
    const bytes = stringToU8a(input);
    const tx = api.tx.jobs.submitJob(
      this.modelSelect.value, byHash ? { Hash: blake2AsHex(bytes, 256) } : { Inline: input },
      params, maxPrice, best + 100, null);
    const { block, events } = await this.chain.send(tx, who);
    const assigned = events.find(({ event }) => api.events.jobs.JobAssigned.is(event));
    if (!assigned) throw new Error('the job was ordered but no JobAssigned event came back');
    const jobId = Number((assigned.event.data as unknown as { jobId: { toString(): string } }).jobId.toString());
    notice(`job ${jobId} ordered in block ${block}: ${agr(maxPrice)} held in escrow`, 'ok');
    this.onOrdered(jobId, block, byHash ? bytes : undefined);
  }

  /** One job per non-empty line, all in one `jobs.submitJobs` transaction (as
   * `agora job submit --each-line` orders them): each holds `maxPrice` and is
   * judged on its own, so a refused line (`OrderRefused`) leaves the others. */
  private async submitLines(input: string, params: object, maxPrice: bigint, deadline: number, who: Account): Promise<void> {
    const api = this.chain.api;
    const lines = input.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim());
    const most = Number(api.consts.jobs.maxOrderBatch.toString());
    if (lines.length > most) throw new Error(`${lines.length} lines: at most ${most} jobs go in one transaction`);
    const orders = lines.map((l) => ({ input: { Inline: l }, params, maxPrice, deadline }));
    const { block, events } = await this.chain.send(api.tx.jobs.submitJobs(this.modelSelect.value, orders, null), who);
    const ids: number[] = [];
    const refused: string[] = [];
    for (const { event } of events) {
      const f = event.data as unknown as Record<string, { toString(): string }>;
      if (api.events.jobs.JobAssigned.is(event)) ids.push(Number(f.jobId.toString()));
      if (api.events.jobs.OrderRefused.is(event)) {
        const error = f.error as unknown as import('@polkadot/types/interfaces').DispatchError;
        refused.push(`line ${Number(f.index.toString()) + 1} refused: ${describeError(this.chain, error)}`);
      }
    }
    const held = agr(maxPrice * BigInt(ids.length));
    notice([`${ids.length} of ${lines.length} jobs ordered in block ${block} (${ids.length ? `jobs ${ids.join(', ')}` : 'none'}): ${held} held in escrow`, ...refused].join('; '),
      refused.length ? 'error' : 'ok');
    for (const id of ids) this.onOrdered(id, block);
  }
}
