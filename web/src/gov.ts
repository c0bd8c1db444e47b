// Governance: the market parameters in force (runtime API
// `AgoraParamsApi_params`, the same list `agora gov params` prints) and the
// referenda, refreshed when a block carries a referenda, voting or parameter
// event.
import type { Codec } from '@polkadot/types/types';
import { Chain, agr, agrExact } from './chain';
import { $, el } from './dom';

interface Param { name: string; value: bigint; default: bigint; min: bigint; max: bigint; unit: string }

const secs = (s: number) =>
  s >= 86_400 && s % 86_400 === 0 ? `${s / 86_400} d`
    : s >= 3_600 && s % 3_600 === 0 ? `${s / 3_600} h`
      : s >= 60 && s % 60 === 0 ? `${s / 60} min` : `${s} s`;

/** A parameter's value in its unit, as `agora gov params` writes it. */
export function fmt(v: bigint, unit: string): string {
  switch (unit) {
    case 'Blocks': return `${v} blocks (${secs(Number(v) * 3)})`;
    case 'Ppm': return `${v} ppm (${Number(v) / 10_000}%)`;
    case 'Perbill': return `${Number(v) / 10_000_000}%`;
    // Exact and ungrouped, as the CLI writes amounts: a parameter is what a
    // referendum sets, so no digit is rounded off (the market's amounts are
    // shown to 6 decimals, grouped).
    case 'Planck': return `${agrExact(v)} AGR`;
    case 'Bytes': return `${v} bytes`;
    case 'Milli': return `${Number(v) / 1000}`;
    default: return v.toString();
  }
}

export class Governance {
  params: Param[] = [];

  constructor(private chain: Chain) {}

  /** AUDIT_RATE in ppm (0 before the first load). */
  auditRatePpm(): number {
    return Number(this.params.find((p) => p.name === 'AUDIT_RATE')?.value ?? 0n);
  }

  async refresh(): Promise<void> {
    const api = this.chain.api;
    const raw = await (api.call as unknown as Record<string, Record<string, () => Promise<Codec>>>).agoraParamsApi.params();
    const text = (c: Codec) => new TextDecoder().decode((c as unknown as { toU8a(b: boolean): Uint8Array }).toU8a(true));
    this.params = (raw as unknown as Array<Record<string, Codec>>).map((p) => ({
      name: text(p.name), value: BigInt(p.value.toString()), default: BigInt(p.default.toString()),
      min: BigInt(p.min.toString()), max: BigInt(p.max.toString()), unit: p.unit.toString(),
    }));
    $('[data-testid=params] tbody').replaceChildren(...this.params.map((p) => el('tr', { 'data-param': p.name },
      el('td', {}, el('code', {}, p.name)),
      el('td', {}, fmt(p.value, p.unit), p.value !== p.default ? ' (not the default: set by the chain spec or a referendum)' : ''),
      el('td', {}, fmt(p.default, p.unit)),
      el('td', {}, `${fmt(p.min, p.unit)} – ${fmt(p.max, p.unit)}`))));

    const tracks = new Map<number, string>();
    for (const [id, info] of api.consts.referenda.tracks as unknown as Array<[Codec, Record<string, Codec>]>) {
      // A track's name is a fixed-size byte array, NUL-padded.
      const bytes = (info.name as unknown as { toU8a(bare: boolean): Uint8Array }).toU8a(true);
      tracks.set(Number(id.toString()), new TextDecoder().decode(bytes).replace(/\0+$/, ''));
    }
    const entries = await api.query.referenda.referendumInfoFor.entries();
    const rows = entries
      .map(([key, value]) => ({ index: Number(key.args[0].toString()), info: (value as unknown as { unwrap(): Codec }).unwrap() }))
      .sort((a, b) => b.index - a.index)
      .map(({ index, info }) => this.row(index, info, tracks));
    $('[data-testid=referenda] tbody').replaceChildren(...(rows.length ? rows
      : [el('tr', {}, el('td', { colspan: '7' }, 'No referenda yet: `agora gov propose-param` submits one.'))]));
  }

  private row(index: number, info: Codec, tracks: Map<number, string>): HTMLElement {
    const e = info as unknown as { type: string; isOngoing: boolean; asOngoing: Record<string, Codec> };
    if (!e.isOngoing) {
      const ended = (info as unknown as Record<string, Codec[]>)[`as${e.type}`];
      const at = Array.isArray(ended) ? ended[0]?.toString() : (ended as unknown as Codec)?.toString();
      return el('tr', { 'data-referendum': String(index) }, el('td', {}, index), el('td', {}, ''),
        el('td', {}, `${e.type} at block ${at}`), el('td', {}, ''), el('td', {}), el('td', {}), el('td', {}));
    }
    const o = e.asOngoing;
    const tally = o.tally as unknown as Record<string, Codec>;
    const status = (o.deciding as unknown as { isSome: boolean; unwrap(): Record<string, Codec> });
    const state = status.isSome
      ? ((status.unwrap().confirming as unknown as { isSome: boolean }).isSome ? 'Confirming' : `Deciding since block ${status.unwrap().since.toString()}`)
      : (o.decisionDeposit as unknown as { isSome: boolean }).isSome ? 'Preparing' : 'Awaiting the decision deposit';
    return el('tr', { 'data-referendum': String(index) },
      el('td', {}, index),
      el('td', {}, tracks.get(Number(o.track.toString())) ?? o.track.toString()),
      el('td', {}, state),
      el('td', {}, this.proposal(o.proposal)),
      el('td', {}, agr(tally.ayes.toString())),
      el('td', {}, agr(tally.nays.toString())),
      el('td', {}, agr(tally.support.toString())));
  }

  /** An inline proposal decoded as `section.method(args)`; a lookup by hash. */
  private proposal(p: Codec): string {
    const b = p as unknown as { isInline: boolean; asInline: Codec; isLookup: boolean; asLookup: Record<string, Codec>; isLegacy: boolean };
    try {
      if (b.isInline) {
        const call = this.chain.api.createType('Call', b.asInline.toU8a(true));
        return `${call.section}.${call.method}(${JSON.stringify(call.args.map((a) => a.toHuman()))})`;
      }
      if (b.isLookup) return `preimage ${b.asLookup.hash.toHex().slice(0, 10)}…`;
    } catch { /* an undecodable call shows as its kind */ }
    return 'call';
  }
}
