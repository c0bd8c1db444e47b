// Agora's dApp: connects to a node, then every view follows the chain through
// one subscription to new blocks and their events (no polling loops).
import type { EventRecord } from '@polkadot/types/interfaces';
import { Chain, agr, short, type Account } from './chain';
import { Market } from './market';
import { Jobs } from './jobs';
import { Governance } from './gov';
import { $, el, busy, notice } from './dom';

const DEFAULT_RPC = 'ws://127.0.0.1:9944';
let chain: Chain | undefined;
let accounts: Account[] = [];
let stopBlocks: (() => void) | undefined;
let stopBalance: (() => void) | undefined;

const current = (): Account | undefined => accounts.find((a) => a.address === $<HTMLSelectElement>('#account').value);

function showTab(): void {
  const tab = location.hash.slice(1) || 'market';
  for (const s of document.querySelectorAll<HTMLElement>('[data-view]')) s.hidden = s.id !== tab;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.getAttribute('data-tab') === tab);
}

function fillAccounts(): void {
  const select = $<HTMLSelectElement>('#account');
  const keep = select.value;
  select.replaceChildren(...accounts.map((a) => el('option', { value: a.address }, `${a.name} ${short(a.address)}`)));
  if (accounts.some((a) => a.address === keep)) select.value = keep;
  else if (accounts.length) select.value = accounts.find((a) => a.name.startsWith('Dave'))?.address ?? accounts[0].address;
}

async function watchBalance(): Promise<void> {
  stopBalance?.();
  const who = current();
  if (!chain || !who) return;
  stopBalance = await chain.api.query.system.account(who.address, (info: unknown) => {
    const data = (info as { data: { free: { toString(): string }; reserved: { toString(): string } } }).data;
    $('#balance').textContent = `${agr(data.free.toString())} free, ${agr(data.reserved.toString())} held`;
  }) as unknown as () => void;
}

async function connect(url: string): Promise<void> {
  stopBlocks?.();
  stopBalance?.();
  if (chain) await chain.api.disconnect().catch(() => {});
  $('#chain-status').textContent = `connecting to ${url}…`;
  chain = await Chain.connect(url);
  const c = chain;
  const name = (await c.api.rpc.system.chain()).toString();
  accounts = c.devAccounts();
  fillAccounts();
  const gov = new Governance(c);
  const market = new Market(c, current, (id, block, byHash) => {
    void jobs.track(id, block).then(() => byHash && jobs.upload(id, byHash));
    location.hash = '#jobs';
  });
  const jobs = new Jobs(c, current, (id) => market.modelName(id), () => gov.auditRatePpm());
  await Promise.all([market.refresh(), gov.refresh()]);
  await jobs.load();
  await watchBalance();
  $('#account').onchange = () => { void jobs.load(); void watchBalance(); };
  $('#wallet').onclick = (e) => busy(e.currentTarget as HTMLButtonElement, async () => {
    const { web3Enable, web3Accounts, web3FromSource } = await import('@polkadot/extension-dapp');
    const exts = await web3Enable('Agora');
    if (!exts.length) throw new Error('no browser wallet (Polkadot.js, Talisman, SubWallet…) allowed this page');
    const found = await web3Accounts({ ss58Format: 4242 });
    const wallet: Account[] = [];
    for (const a of found) {
      const { signer } = await web3FromSource(a.meta.source);
      wallet.push({ address: a.address, name: a.meta.name ?? a.meta.source, source: a.meta.source, signer });
    }
    accounts = [...wallet, ...c.devAccounts()];
    fillAccounts();
    notice(`${wallet.length} account(s) from the wallet`, 'ok');
  });

  const unsub = await c.api.rpc.chain.subscribeNewHeads(async (header) => {
    const block = header.number.toNumber();
    $('#chain-status').textContent = `${name} · block #${block}`;
    const events = (await c.api.query.system.events.at(header.hash)) as unknown as EventRecord[];
    const sections = new Set(events.map((e) => e.event.section));
    await jobs.onEvents(block, events);
    if (['models', 'slashing', 'reputation'].some((s) => sections.has(s)) ||
        events.some((e) => e.event.section === 'jobs' && ['JobFinalized', 'JobRated', 'JobExpired'].includes(e.event.method))) {
      await market.refresh();
    }
    if (['referenda', 'convictionVoting', 'marketParams'].some((s) => sections.has(s))) await gov.refresh();
  });
  stopBlocks = unsub;
  c.api.on('disconnected', () => { $('#chain-status').textContent = `disconnected from ${url}: reconnecting…`; });
  c.api.on('connected', () => { $('#chain-status').textContent = `${name}: reconnected, waiting for the next block`; });
}

function start(): void {
  const params = new URLSearchParams(location.search);
  const url = params.get('rpc') ?? localStorage.getItem('agora-rpc') ?? DEFAULT_RPC;
  $<HTMLInputElement>('#rpc-url').value = url;
  window.addEventListener('hashchange', showTab);
  showTab();
  $('#connect').addEventListener('submit', (e) => {
    e.preventDefault();
    const u = $<HTMLInputElement>('#rpc-url').value.trim();
    localStorage.setItem('agora-rpc', u);
    void busy(null, () => connect(u));
  });
  void busy(null, () => connect(url).catch((e) => {
    $('#chain-status').textContent = 'not connected';
    throw e;
  }));
}

start();
