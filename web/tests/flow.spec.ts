// The dApp in a real browser against a real chain and worker: a person, as
// //Dave on the dev chain, browses the market, quotes and orders a generation
// and an embedding job, watches each live to its payout, fetches the outputs
// from the provider and sees them hash-checked, disputes one (the committee
// re-checks it with the model), rates, meets the chain's errors in words, and
// watches a referendum appear on the governance page as it is submitted; then
// the node is restarted under the page, which reconnects and orders again; and
// last, a lying worker's false "input never came" is contested from the page.
import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import type { SignerPayloadJSON } from '@polkadot/types/types';
import { agr } from '../src/chain';
import { bin, restartNode, restartWorker } from './chain';

const WS = () => process.env.AGORA_WS ?? '';
const SMOL = 'SmolLM2-135M-Instruct';
const MINILM = 'all-MiniLM-L6-v2';
let api: ApiPromise;
let dave: string;
let bob: string;

test.beforeAll(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 4242 });
  dave = keyring.addFromUri('//Dave').address;
  bob = keyring.addFromUri('//Bob').address;
  api = await ApiPromise.create({ provider: new WsProvider(WS()), noInitWarn: true });
});
test.afterAll(async () => { await api?.disconnect(); });

/** Saves a screenshot for docs/dapp.md when AGORA_SCREENSHOTS names a folder. */
async function shot(page: Page, name: string) {
  const dir = process.env.AGORA_SCREENSHOTS;
  if (dir) await page.screenshot({ path: join(dir, `dapp-${name}.png`), fullPage: true });
}

/** Fills the order form (the input on chain, or by hash), quotes, submits;
 * returns the job id the page reports. */
async function order(page: Page, model: string, input: string, maxTokens: number, byHash = false): Promise<number> {
  await page.locator('nav a[data-tab=market]').click();
  await page.getByTestId('order-model').selectOption({ label: model });
  await page.getByTestId('order-input').fill(input);
  await page.getByTestId('order-by-hash').setChecked(byHash);
  await page.getByTestId('order-each-line').setChecked(false);
  await page.getByTestId('order-max-tokens').fill(String(maxTokens));
  await page.getByTestId('quote').click();
  await expect(page.getByTestId('quote-out')).toContainText('1 offer(s): cheapest');
  await expect(page.getByTestId('order-max-price')).not.toHaveValue('');
  await page.getByTestId('submit-job').click();
  const notice = page.getByTestId('notice');
  await expect(notice).toContainText(/job \d+ ordered in block \d+/);
  return Number(/job (\d+) ordered/.exec((await notice.textContent()) ?? '')![1]);
}

/** The charge the chain stored for a finalized job, as the page writes amounts. */
async function storedCharge(id: number): Promise<string> {
  return agr(await chargePlanck(id));
}

test('a client orders, watches, verifies, disputes and rates jobs; governance is live', async ({ page }) => {
  await page.goto(`/?rpc=${encodeURIComponent(WS())}`);
  await expect(page.getByTestId('chain-status')).toContainText(/Development · block #\d+/);
  await expect(page.getByTestId('account')).toHaveValue(dave);
  await expect(page.getByTestId('balance')).toContainText('AGR free');

  // The market: both models, and SmolLM2's providers ranked as agora_providers ranks them.
  await expect(page.locator(`[data-testid=models] tr[data-model="${SMOL}"]`)).toContainText('TeacherForced');
  await expect(page.locator(`[data-testid=models] tr[data-model="${MINILM}"]`)).toContainText('Cosine');
  await page.getByTestId(`providers-${SMOL}`).click();
  const row = page.locator(`[data-testid=providers] tr[data-provider="${bob}"]`);
  await expect(row).toContainText('http://127.0.0.1:8700');
  await expect(row.locator('td').first()).toHaveText('1');
  await expect(row).toContainText('10,000 AGR');
  await expect(row.locator('td').nth(8)).toHaveText('no');
  await expect(row.locator('td').nth(3)).toHaveText('none yet');
  await shot(page, 'market');

  // A chain error in words: a max price no offer fits.
  await page.getByTestId('order-model').selectOption({ label: SMOL });
  await page.getByTestId('order-input').fill('Hello');
  await page.getByTestId('order-max-price').fill('0.000001');
  await page.getByTestId('submit-job').click();
  await expect(page.getByTestId('notice')).toContainText('jobs.NoFittingOffer: No active offer for the model fits the price');
  // And the page's own check: an empty input never reaches the chain.
  await page.getByTestId('order-input').fill('   ');
  await page.getByTestId('submit-job').click();
  await expect(page.getByTestId('notice')).toContainText('the input is empty');

  // A generation: live to its receipt, fetched from the provider and hash-checked.
  const gen = await order(page, SMOL, 'What is the capital of France? Answer in one sentence.', 48);
  const card = page.getByTestId(`job-${gen}`);
  await expect(card).toBeVisible();
  await expect(page.getByTestId(`job-${gen}-status`)).toHaveText('Receipted');
  const steps = page.getByTestId(`job-${gen}-steps`);
  await expect(steps).toContainText(/block \d+: Assigned to .* \(drawn by AVRF\)/);
  await expect(steps).toContainText(/block \d+: Acknowledged by the provider/);
  await expect(steps).toContainText(/block \d+: Receipted: \d+ tokens billed/);
  await page.getByTestId(`job-${gen}-fetch`).click();
  await expect(page.getByTestId(`job-${gen}-verified`)).toContainText('verified ✓');
  await expect(page.getByTestId(`job-${gen}-output`)).toContainText('Paris');
  await expect(page.getByTestId(`job-${gen}-output`)).toContainText('tokens, as billed');

  // Dave disputes it: Alice's verifier re-checks it with the model and the
  // committee upholds the receipt; then it finalizes and pays out.
  await page.getByTestId(`job-${gen}-dispute`).click();
  await expect(steps).toContainText(/block \d+: Disputed by you, bonding 10 AGR/);
  await expect(steps).toContainText(/Dispute: committee .* re-checks the output/);
  await expect(steps).toContainText(/block \d+: Vote: Valid by /);
  await expect(steps).toContainText(/block \d+: Verified by the committee: the receipt stands/);
  await expect(page.getByTestId(`job-${gen}-status`)).toHaveText('Finalized');
  await expect(steps).toContainText(/block \d+: Finalized and paid: charged .* provider .* protocol fee .* royalty/);
  await expect(page.getByTestId(`job-${gen}-charge`)).toHaveText(` · charged ${await storedCharge(gen)}`);
  await page.getByTestId(`job-${gen}-rate-up`).click();
  await expect(steps).toContainText(/block \d+: Rated \+1 by you/);
  await shot(page, 'jobs');

  // An embedding: hash-checked, then finalized without an audit.
  const emb = await order(page, MINILM, 'The cat sits on the mat.', 1);
  await expect(page.getByTestId(`job-${emb}-status`)).toHaveText('Receipted');
  await page.getByTestId(`job-${emb}-fetch`).click();
  await expect(page.getByTestId(`job-${emb}-verified`)).toContainText('verified ✓');
  await expect(page.getByTestId(`job-${emb}-output`)).toContainText('embedding of 384 dimensions, norm 1.000');
  await expect(page.getByTestId(`job-${emb}-status`)).toHaveText('Finalized');
  const embSteps = page.getByTestId(`job-${emb}-steps`);
  await expect(embSteps).toContainText('Not drawn for audit (AUDIT_RATE 0.0 %) and not disputed');
  await expect(page.getByTestId(`job-${emb}-charge`)).toHaveText(` · charged ${await storedCharge(emb)}`);

  // A reload keeps the history: the jobs come back from chain storage, rated
  // ones without the rate buttons.
  await page.reload();
  await page.locator('nav a[data-tab=jobs]').click();
  await expect(page.getByTestId(`job-${gen}-status`)).toHaveText('Finalized');
  await expect(page.getByTestId(`job-${emb}-status`)).toHaveText('Finalized');
  await expect(page.getByTestId(`job-${gen}-rate-up`)).toHaveCount(0);
  await expect(page.getByTestId(`job-${emb}-rate-up`)).toHaveCount(1);

  // The rating reached the provider's listing.
  await page.locator('nav a[data-tab=market]').click();
  await page.getByTestId(`providers-${SMOL}`).click();
  await expect(row.locator('td').nth(3)).toHaveText('1.00 (1)');
  await expect(row.locator('td').nth(7)).toContainText('2 finalized, 0 expired');

  // Governance: the parameters in force, and a referendum that appears while
  // the page is open (submitted with the agora CLI as Alice).
  await page.locator('nav a[data-tab=governance]').click();
  await expect(page.locator('[data-testid=params] tr[data-param=DISPUTE_WINDOW]')).toContainText('10 blocks (30 s)');
  await expect(page.locator('[data-testid=params] tr[data-param=AUDIT_RATE]')).toContainText('0 ppm');
  // Every parameter reads as `agora gov params` writes it (the page formats
  // units in TypeScript, the CLI in Rust: this keeps the two the same).
  const cli = JSON.parse(execFileSync(bin('agora'), ['--url', WS(), '--json', 'gov', 'params']).toString().trim()) as
    Array<{ name: string; shown: { value: string; default: string; min: string; max: string } }>;
  expect(cli.length).toBeGreaterThan(10);
  await expect(page.locator('[data-testid=params] tbody tr')).toHaveCount(cli.length);
  for (const p of cli) {
    const cells = page.locator(`[data-testid=params] tr[data-param=${p.name}] td`);
    await expect(cells.nth(1)).toHaveText(new RegExp(`^${literal(p.shown.value)}( \\(not the default.*)?$`));
    await expect(cells.nth(2)).toHaveText(p.shown.default);
    await expect(cells.nth(3)).toHaveText(`${p.shown.min} – ${p.shown.max}`);
  }
  execFileSync(bin('agora'), ['--url', WS(), 'gov', 'propose-param', '--suri', '//Alice', 'DISPUTE_WINDOW', '15'], { stdio: 'pipe' });
  const ref = page.locator('[data-testid=referenda] tr[data-referendum="0"]');
  await expect(ref.locator('td').nth(1)).toHaveText('market_params');
  await expect(ref).toContainText('Awaiting the decision deposit');
  await expect(ref).toContainText('marketParams.set');
  await shot(page, 'governance');
});

// A browser wallet, ordering by hash: no extension can be installed in headless chromium here, so
// the test injects one the way extensions do (`window.injectedWeb3`), whose
// keys live in this test process as a real extension's live in its own. The
// page finds it with @polkadot/extension-dapp, the wallet signs the order
// (signPayload) and the output read (signRaw: `<Bytes>…</Bytes>`-wrapped), and
// the real worker serves the output on that wrapped signature.
test('a browser wallet account orders a job by hash, uploads its input and reads its output', async ({ page }) => {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 4242 });
  const wallet = keyring.addFromUri('//AgoraBrowserWallet');
  const alice = keyring.addFromUri('//Alice');
  await new Promise<void>((resolve, reject) => {
    api.tx.balances.transferKeepAlive(wallet.address, 100n * 10n ** 12n)
      .signAndSend(alice, ({ status, dispatchError }) => {
        if (dispatchError) reject(new Error(dispatchError.toString()));
        else if (status.isInBlock) resolve();
      }).catch(reject);
  });
  const signed = { payloads: 0, raws: 0 };
  await page.exposeFunction('agoraWalletSignPayload', (payload: SignerPayloadJSON) => {
    signed.payloads++;
    const ext = api.registry.createType('ExtrinsicPayload', payload, { version: payload.version });
    return ext.sign(wallet).signature;
  });
  await page.exposeFunction('agoraWalletSignRaw', (data: string) => {
    signed.raws++;
    return u8aToHex(wallet.sign(u8aWrapBytes(hexToU8a(data))));
  });
  await page.addInitScript(({ address }) => {
    type W = Window & { injectedWeb3?: unknown; agoraWalletSignPayload(p: unknown): Promise<string>; agoraWalletSignRaw(d: string): Promise<string> };
    const w = window as unknown as W;
    let id = 0;
    w.injectedWeb3 = {
      'test-wallet': {
        version: '1.0.0',
        enable: async () => ({
          accounts: { get: async () => [{ address, name: 'Browser wallet', type: 'sr25519' }], subscribe: () => () => {} },
          signer: {
            signPayload: async (p: unknown) => ({ id: ++id, signature: await w.agoraWalletSignPayload(p) }),
            signRaw: async (r: { data: string }) => ({ id: ++id, signature: await w.agoraWalletSignRaw(r.data) }),
          },
        }),
      },
    };
  }, { address: wallet.address });

  await page.goto(`/?rpc=${encodeURIComponent(WS())}`);
  await expect(page.getByTestId('chain-status')).toContainText(/block #\d+/);
  await page.getByRole('button', { name: 'Use a browser wallet' }).click();
  await expect(page.getByTestId('notice')).toContainText('1 account(s) from the wallet');
  await page.getByTestId('account').selectOption(wallet.address);
  await expect(page.getByTestId('balance')).toContainText('100 AGR free');

  // By hash: only the input's blake2-256 goes on chain; the page uploads the
  // text to Bob's worker (no signature needed) and checks its upload receipt.
  const id = await order(page, MINILM, 'Signed by a wallet.', 1, true);
  expect(signed.payloads).toBe(1);
  await expect(page.getByTestId(`job-${id}-steps`)).toContainText(/upload receipt 0x.*, signed by the job's worker key ✓/);
  const input = (await api.query.jobs.jobs(id)) as unknown as { unwrap(): { input: { isHash: boolean; asHash: { toHex(): string } } } };
  expect(input.unwrap().input.isHash).toBe(true);
  expect(input.unwrap().input.asHash.toHex()).toBe(blake2AsHex('Signed by a wallet.', 256));
  await expect(page.getByTestId(`job-${id}-status`)).toHaveText(/Receipted|Finalized/);
  await page.getByTestId(`job-${id}-fetch`).click();
  await expect(page.getByTestId(`job-${id}-verified`)).toContainText('verified ✓');
  expect(signed.raws).toBe(1);
  const job = (await api.query.jobs.jobs(id)) as unknown as { unwrap(): { client: { toString(): string } } };
  expect(job.unwrap().client.toString()).toBe(wallet.address);
});

// One job per line, as `agora job submit --each-line` orders them: the lines
// go in one `jobs.submitJobs` transaction; the chain refuses the one over its
// inline limit by name and takes the others, which are served like any job.
test('a client orders one job per line in one transaction; a refused line leaves the others', async ({ page }) => {
  await page.goto(`/?rpc=${encodeURIComponent(WS())}`);
  await expect(page.getByTestId('chain-status')).toContainText(/block #\d+/);
  await page.locator('nav a[data-tab=market]').click();
  await page.getByTestId('order-model').selectOption({ label: MINILM });
  await page.getByTestId('order-input').fill(`A red apple.\n\n${'x'.repeat(20_000)}\nA blue sky.\n`);
  await page.getByTestId('order-max-tokens').fill('1');
  await page.getByTestId('quote').click();
  await expect(page.getByTestId('order-max-price')).not.toHaveValue('');
  // By hash and per line do not mix: refused by the page, nothing signed.
  await page.getByTestId('order-by-hash').setChecked(true);
  await page.getByTestId('order-each-line').setChecked(true);
  const notice = page.getByTestId('notice');
  await page.getByTestId('submit-job').click();
  await expect(notice).toContainText('order by hash one job at a time');
  await page.getByTestId('order-by-hash').setChecked(false);
  await page.getByTestId('submit-job').click();
  await expect(notice).toContainText(/2 of 3 jobs ordered in block \d+ \(jobs \d+, \d+\)/);
  await expect(notice).toContainText('line 2 refused: jobs.InputTooLong');
  const [a, b] = /jobs (\d+), (\d+)/.exec((await notice.textContent()) ?? '')!.slice(1).map(Number);
  expect(b).toBe(a + 1);
  for (const id of [a, b]) {
    await expect(page.getByTestId(`job-${id}-status`)).toHaveText(/Receipted|Finalized/);
    await page.getByTestId(`job-${id}-fetch`).click();
    await expect(page.getByTestId(`job-${id}-verified`)).toContainText('verified ✓');
  }
  const job = (await api.query.jobs.jobs(a)) as unknown as { unwrap(): { client: { toString(): string } } };
  expect(job.unwrap().client.toString()).toBe(dave);
});

test('the dApp rides out a node restart: it says so, reconnects and orders again', async ({ page }) => {
  await page.goto(`/?rpc=${encodeURIComponent(WS())}`);
  const status = page.getByTestId('chain-status');
  await expect(status).toContainText(/block #\d+/);
  const block = async () => Number(/block #(\d+)/.exec((await status.textContent()) ?? '')?.[1] ?? 0);
  const before = await block();
  await restartNode(async () => {
    await expect(status).toContainText('disconnected from');
  });
  // The page reconnects by itself (no reload) and follows new blocks again.
  await expect(status).toContainText(/block #\d+/);
  await expect.poll(block, { timeout: 120_000 }).toBeGreaterThan(before);
  // Bob's worker reconnected too: a job ordered now is answered and verified.
  const id = await order(page, MINILM, 'After the node came back.', 1);
  await expect(page.getByTestId(`job-${id}-status`)).toHaveText(/Receipted|Finalized/);
  await page.getByTestId(`job-${id}-fetch`).click();
  await expect(page.getByTestId(`job-${id}-verified`)).toContainText('verified ✓');
});

// Last (it slashes Bob): Bob's worker, restarted as a test build's liar
// (`--cheat input-missing`), takes a by-hash input and signs the upload
// receipt, then reports the input missing all the same. The page kept the
// receipt; its Contest button puts it on chain: the charge comes back out of
// Bob's bond, he is slashed, and the job ends `Fraud`.
test('a false "input never came" is contested from the page with the upload receipt', async ({ page }) => {
  const liar = await restartWorker(['--cheat', 'input-missing']);
  try {
    await page.goto(`/?rpc=${encodeURIComponent(WS())}`);
    await expect(page.getByTestId('chain-status')).toContainText(/block #\d+/);
    const bondBefore = await bond(bob);
    const id = await order(page, MINILM, 'Delivered, then denied.', 1, true);
    const steps = page.getByTestId(`job-${id}-steps`);
    await expect(steps).toContainText(/upload receipt 0x.*, signed by the job's worker key ✓/);
    // The worker waits out the client's input grace before it may report.
    await expect(page.getByTestId(`job-${id}-status`)).toHaveText('InputMissing', { timeout: 240_000 });
    await expect(steps).toContainText(/block \d+: The provider reports the input was never delivered/);
    expect(readFileSync(liar, 'utf8')).toContain('reporting a delivered input missing');
    await page.getByTestId(`job-${id}-contest`).click();
    await expect(page.getByTestId(`job-${id}-status`)).toHaveText('Fraud');
    const charge = await storedCharge(id);
    await expect(steps).toContainText(
      `The report was false (contested with the upload receipt): ${charge} back to you out of the provider's bond`);
    await expect(page.getByTestId(`job-${id}-contest`)).toHaveCount(0);
    // Bob paid the charge back and more (the slash) out of his bond.
    expect(await bond(bob)).toBeLessThan(bondBefore - BigInt(await chargePlanck(id)));
  } finally {
    await restartWorker();
  }
});

/** A provider's active bond (planck). */
async function bond(who: string): Promise<bigint> {
  const b = (await api.query.slashing.bonds(who)) as unknown as { unwrap(): { active: { toString(): string } } };
  return BigInt(b.unwrap().active.toString());
}

/** `s` as a regular expression that matches it literally. */
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The charge the chain stored for a job (planck). */
async function chargePlanck(id: number): Promise<string> {
  const job = (await api.query.jobs.jobs(id)) as unknown as { unwrap(): { charge: { unwrap(): { toString(): string } } } };
  return job.unwrap().charge.unwrap().toString();
}
