// Reputation and discovery against a real dev node, with Polkadot.js and the
// `agora` CLI: two providers serve (receipts signed in JS by their worker keys),
// clients rate one +1 and the other −1, `agora_providers` ranks them so, and new
// AVRF-drawn jobs shift towards the better one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, blake2AsU8a } from '@polkadot/util-crypto';
import { u8aConcat, stringToU8a } from '@polkadot/util';
import { startDevNode, sendTx, waitForBlock, clientBinary, tryState } from './helpers.mjs';

const AGR = 10n ** 12n;
const MILLI = AGR / 1000n;
let node, keyring, bob, charlie, clients, smolId;

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 4242 });
  [bob, charlie] = ['//Bob', '//Charlie'].map((u) => keyring.addFromUri(u));
  clients = ['//Alice', '//Dave', '//Eve', '//Ferdie'].map((u) => keyring.addFromUri(u));
  const models = await node.api._rpcCore.provider.send('agora_models', []);
  smolId = models.find((m) => m.name === 'SmolLM2-135M-Instruct').id;
});
after(async () => { if (node) await node.stop(); });

const rpc = (method, params) => node.api._rpcCore.provider.send(method, params);
const find = (events, ev) => events.find(({ event }) => ev.is(event))?.event;
const head = async () => (await node.api.rpc.chain.getHeader()).number.toNumber();

function signedReceipt(job, jobId, worker) {
  const { api } = node;
  const output = stringToU8a(`answer ${jobId}`);
  const receipt = {
    jobId,
    modelId: job.modelId,
    inputHash: blake2AsU8a(job.input.asInline, 256),
    outputHash: blake2AsU8a(output, 256),
    outputTokens: 10,
    provider: job.provider,
    workerPubkey: worker.publicKey,
  };
  const encoded = api.tx.jobs.submitReceipt(jobId, receipt, new Uint8Array(64)).args[1].toU8a();
  return { receipt, signature: worker.sign(u8aConcat(stringToU8a('agora/receipt/v1'), encoded)) };
}

/** `client` orders a job (from `provider`, or by AVRF when null); returns its id and provider. */
async function order(client, provider) {
  const { api } = node;
  const ev = find(await sendTx(node, api.tx.jobs.submitJob(
    smolId, { Inline: `q from ${client.address}` }, { maxTokens: 100, temperatureMilli: 0, seed: 0 },
    50n * MILLI, (await head()) + 200, provider), client), api.events.jobs.JobAssigned);
  return { id: ev.data.jobId.toNumber(), provider: ev.data.provider.toString() };
}

async function receipt(jobId, worker) {
  const { api } = node;
  const job = (await api.query.jobs.jobs(jobId)).unwrap();
  const { receipt: r, signature } = signedReceipt(job, jobId, worker);
  const ev = find(await sendTx(node, api.tx.jobs.submitReceipt(jobId, r, signature), worker), api.events.jobs.JobReceipted);
  return ev.data.finalizeAt.toNumber();
}

test('ratings rank providers, and AVRF follows reputation', async () => {
  const { api } = node;
  // Charlie becomes a second provider of SmolLM2; both offers get room for many jobs.
  await sendTx(node, api.tx.slashing.bond(2000n * AGR), charlie);
  await sendTx(node, api.tx.models.openOffer(smolId, charlie.publicKey, MILLI, 10n * MILLI,
    'http://127.0.0.1:8701', 100, 'cpu'), charlie);
  const offers = await rpc('agora_offers', [smolId]);
  const bobOffer = offers.find((o) => o.provider === bob.address);
  await sendTx(node, api.tx.models.updateOffer(bobOffer.id, MILLI, 10n * MILLI, bobOffer.endpoint, 100, 'cpu'), bob);

  // Before any history both start at 50.
  let list = await rpc('agora_providers', [smolId, 'rank']);
  assert.equal(list.length, 2);
  assert.deepEqual(list.map((l) => l.reputation), [50, 50]);

  // Every client orders one job from each; both providers receipt them.
  const jobs = (await Promise.all(clients.map(async (c) => [await order(c, bob.address), await order(c, charlie.address)]))).flat();
  const byBob = jobs.filter((j) => j.provider === bob.address).map((j) => j.id);
  const byCharlie = jobs.filter((j) => j.provider === charlie.address).map((j) => j.id);
  assert.equal(byBob.length, 4);
  assert.equal(byCharlie.length, 4);
  const finals = await Promise.all([
    (async () => { let f = 0; for (const id of byBob) f = Math.max(f, await receipt(id, bob)); return f; })(),
    (async () => { let f = 0; for (const id of byCharlie) f = Math.max(f, await receipt(id, charlie)); return f; })(),
  ]);
  await waitForBlock(node, Math.max(...finals) + 1);

  // Each client rates Bob +1 and Charlie −1 (jobs are in client order).
  await Promise.all(clients.map(async (c, i) => {
    const rated = find(await sendTx(node, api.tx.jobs.rate(byBob[i], 1), c), api.events.reputation.Rated);
    assert.ok(rated, 'Rated');
    await sendTx(node, api.tx.jobs.rate(byCharlie[i], -1), c);
  }));

  // agora_providers ranks Bob first: 100/(1+e^-1.2) = 76.852 against 23.148.
  list = await rpc('agora_providers', [smolId, 'rank']);
  assert.equal(list[0].provider, bob.address);
  assert.equal(list[1].provider, charlie.address);
  assert.equal(list[0].reputationMilli, 76852);
  assert.equal(list[1].reputationMilli, 23148);
  assert.ok(list[0].rankingPpm > list[1].rankingPpm);
  assert.equal(list[0].subscribers, 4);
  assert.equal(list[0].averageRating, 1);
  assert.equal(list[1].averageRating, -1);
  assert.equal(list[0].stake, (10000n * AGR).toString());
  const byStake = await rpc('agora_providers', [smolId, 'stake']);
  assert.equal(byStake[0].provider, bob.address, 'Bob bonded 10,000 AGR, Charlie 2,000');
  const quote = await rpc('agora_quote', [smolId, 100]);
  assert.equal(quote.offers, 2);
  assert.equal(quote.cheapest.price, (2n * MILLI).toString());
  assert.equal(quote.bestRanked.offerId, bobOffer.id);

  // The CLI shows the same ranking.
  const cli = JSON.parse(execFileSync(clientBinary(),
    ['--url', node.url, '--json', 'provider', 'list', '--model', 'SmolLM2-135M-Instruct', '--sort', 'rank']).toString());
  assert.deepEqual(cli.map((l) => l.provider), [bob.address, charlie.address]);

  // New AVRF-drawn jobs: weights are the rounded scores, 77 and 23.
  const drawn = (await Promise.all(clients.map(async (c) => {
    const out = [];
    for (let k = 0; k < 6; k++) out.push(await order(c, null));
    return out;
  }))).flat();
  const a = await rpc('agora_assignment', [drawn[0].id]);
  const weights = Object.fromEntries(a.candidates.map((c) => [c.provider, c.weight]));
  assert.deepEqual(weights, { [bob.address]: 77, [charlie.address]: 23 });
  const toBob = drawn.filter((j) => j.provider === bob.address).length;
  assert.ok(toBob > drawn.length / 2, `Bob drew ${toBob} of ${drawn.length}`);
});

test("every pallet's try_state passes on the chain these tests leave", async () => {
  assert.ok((await tryState(node)) > 0);
});
