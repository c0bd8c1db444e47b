// Polkadot.js against a real dev node: the model registry and provider bonds.
// Register a model, bond, open an offer, read it back through the agora_* RPC
// and through plain storage queries, then unbond and withdraw once the (short,
// dev-only) unbonding period has passed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, blake2AsHex } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';
import { startDevNode, sendTx, waitForBlock as waitFor, tryState } from './helpers.mjs';

const AGR = 10n ** 12n;
let node, keyring, charlie;

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 4242 });
  charlie = keyring.addFromUri('//Charlie');
});
after(async () => { if (node) await node.stop(); });

const rpc = (method, params) => node.api._rpcCore.provider.send(method, params);

const send = (tx, signer) => sendTx(node, tx, signer);
const waitForBlock = (n) => waitFor(node, n);

test('the dev chain ships the two models, each with a bonded offer', async () => {
  const models = await rpc('agora_models', []);
  const names = models.map((m) => m.name).sort();
  assert.deepEqual(names, ['SmolLM2-135M-Instruct', 'all-MiniLM-L6-v2']);
  const smol = models.find((m) => m.name === 'SmolLM2-135M-Instruct');
  assert.equal(smol.weightsHash, '0xb179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53');
  assert.equal(smol.determinism.kind, 'TeacherForced');
  for (const m of models) {
    const offers = await rpc('agora_offers', [m.id]);
    assert.equal(offers.length, 1, `${m.name} has one offer`);
    assert.equal(offers[0].status, 'Active');
    const p = await rpc('agora_provider', [offers[0].provider]);
    assert.equal(p.bonded, true);
  }
});

test('register, bond, open an offer, read it back, unbond and withdraw', async () => {
  const { api } = node;
  const manifest = {
    name: 'js-test-model', architecture: 'llama', quantization: 'Q8_0',
    task: 'TextGeneration', determinism: { Exact: null },
    weightsHash: blake2AsHex('js-test-weights'), tokenizerHash: null, configHash: null,
    licence: 'MIT', publisher: charlie.address, royaltyBps: 250,
  };
  // The id is blake2_256(SCALE(manifest)), computable client-side.
  const registerTx = api.tx.models.registerModel(manifest);
  const modelId = blake2AsHex(registerTx.args[0].toU8a(), 256);

  const regEvents = await send(registerTx, charlie);
  const reg = regEvents.find(({ event }) => api.events.models.ModelRegistered.is(event));
  assert.ok(reg, 'ModelRegistered');
  assert.equal(u8aToHex(reg.event.data[0]), modelId);

  // An offer without a bond is refused with a specific error.
  const workerKey = u8aToHex(keyring.addFromUri('//Charlie//worker').publicKey);
  const offerTx = () => api.tx.models.openOffer(modelId, workerKey, 2n * AGR / 1000n, 5n * AGR / 1000n,
    'http://127.0.0.1:8799', 2, 'cpu-js');
  await assert.rejects(send(offerTx(), charlie), /models\.NotBonded/);

  const stake = 1_500n * AGR;
  await send(api.tx.slashing.bond(stake), charlie);
  const openEvents = await send(offerTx(), charlie);
  const opened = openEvents.find(({ event }) => api.events.models.OfferOpened.is(event));
  assert.ok(opened, 'OfferOpened');
  const offerId = opened.event.data[0].toNumber();

  // Read back through the agora_* RPC...
  const offers = await rpc('agora_offers', [modelId]);
  assert.equal(offers.length, 1);
  assert.equal(offers[0].id, offerId);
  assert.equal(offers[0].workerKey, workerKey);
  assert.equal(offers[0].endpoint, 'http://127.0.0.1:8799');
  assert.equal(offers[0].basePrice, (2n * AGR / 1000n).toString());
  const model = await rpc('agora_model', [modelId]);
  assert.equal(model.name, 'js-test-model');
  assert.equal(model.royaltyBps, 250);
  const provider = await rpc('agora_provider', [charlie.address]);
  assert.equal(provider.bond, stake.toString());
  assert.deepEqual(provider.offers, [offerId]);
  // ...and through plain storage queries.
  const stored = (await api.query.models.offers(offerId)).unwrap();
  assert.equal(stored.provider.toString(), charlie.address);
  assert.equal(u8aToHex(stored.modelId), modelId);
  assert.equal(stored.capacity.toNumber(), 2);
  assert.equal(stored.status.toString(), 'Active');
  const bond = (await api.query.slashing.bonds(charlie.address)).unwrap();
  assert.equal(bond.active.toBigInt(), stake);
  const held = (await api.query.balances.holds(charlie.address))
    .find((h) => h.id.toString().includes('ProviderBond') || JSON.stringify(h.id.toJSON()).includes('providerBond'));
  assert.ok(held, 'the bond is a balances hold');
  assert.equal(held.amount.toBigInt(), stake);
  // Registering and offering hold deposits: 100 AGR per model (until it is
  // removed), 10 AGR per offer (until it is closed).
  const holdOf = async (name) => (await api.query.balances.holds(charlie.address))
    .find((h) => JSON.stringify(h.id.toJSON()).toLowerCase().includes(name.toLowerCase()));
  assert.equal((await holdOf('modelDeposit')).amount.toBigInt(), 100n * AGR);
  assert.equal((await holdOf('offerDeposit')).amount.toBigInt(), 10n * AGR);
  await assert.rejects(send(api.tx.models.removeModel(modelId), charlie), /models\.NotDeprecated/);

  // Bad input: a non-http endpoint is refused, and moves nothing.
  await assert.rejects(send(api.tx.models.updateOffer(offerId, 1, 1, 'ftp://x', 1, ''), charlie),
    /models\.InvalidEndpoint/);

  // Unbond everything: the offer is paused, and the funds come back after the period.
  const unbondEvents = await send(api.tx.slashing.unbond(stake), charlie);
  const unbonded = unbondEvents.find(({ event }) => api.events.slashing.Unbonded.is(event));
  const until = unbonded.event.data[2].toNumber();
  assert.equal((await api.query.models.offers(offerId)).unwrap().status.toString(), 'Paused');
  await assert.rejects(send(api.tx.slashing.withdrawUnbonded(), charlie), /slashing\.UnbondingNotFinished/);
  await waitForBlock(until);
  const free0 = (await api.query.system.account(charlie.address)).data.free.toBigInt();
  const wEvents = await send(api.tx.slashing.withdrawUnbonded(), charlie);
  const withdrawn = wEvents.find(({ event }) => api.events.slashing.Withdrawn.is(event));
  assert.equal(withdrawn.event.data[1].toBigInt(), stake);
  const free1 = (await api.query.system.account(charlie.address)).data.free.toBigInt();
  assert.ok(free1 > free0 + stake - AGR, 'the stake is free again (less the fee)');
  assert.ok((await api.query.slashing.bonds(charlie.address)).isNone);
  // Closing the offer releases its deposit; the model's stays until it is removed.
  await send(api.tx.models.closeOffer(offerId), charlie);
  assert.equal(await holdOf('offerDeposit'), undefined);
  await send(api.tx.models.deprecateModel(modelId), charlie);
  await assert.rejects(send(api.tx.models.removeModel(modelId), charlie), /models\.RetentionNotOver/);
  assert.equal((await holdOf('modelDeposit')).amount.toBigInt(), 100n * AGR);
});

test("every pallet's try_state passes on the chain these tests leave", async () => {
  assert.ok((await tryState(node)) > 0);
});
