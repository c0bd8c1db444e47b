// Polkadot.js against a real dev node: OpenGov and the parameters store.
// Three `market_params` referenda run side by side on DISPUTE_WINDOW:
//   A sets it 10 → 15 (preimage noted, decision deposit, four holders vote aye
//     with conviction): approved and enacted;
//   B would set it to 40 but the holders vote nay: rejected, nothing changes;
//   C would set it to 2, below its minimum of 5: approved, but the enactment
//     fails with MarketParams.BelowMinimum and the window stays 15.
// Signed accounts can call neither `marketParams.set` nor `parameters.setParameter`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, blake2AsHex } from '@polkadot/util-crypto';
import { startDevNode, sendTx, tryState } from './helpers.mjs';

const AGR = 10n ** 12n;
let node, keyring, api;

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  api = node.api;
  keyring = new Keyring({ type: 'sr25519', ss58Format: 4242 });
});
after(async () => { if (node) await node.stop(); });

const send = (tx, signer) => sendTx(node, tx, signer);
const find = (events, e) => events.map((r) => r.event).find((ev) => e.is(ev));
const setWindow = (v) => api.tx.marketParams.set({ DisputeWindow: [null, v] });
const KEY = { Market: { DisputeWindow: null } };
// The window in force: the stored value, or the runtime's default of 10.
async function disputeWindow() {
  const v = await api.query.parameters.parameters(KEY);
  return v.isSome ? v.unwrap().asMarket.asDisputeWindow.toNumber() : 10;
}

test('the dev chain has the root and market_params tracks, with short periods', async () => {
  const tracks = api.consts.referenda.tracks.toJSON();
  const text = (n) => (typeof n === 'string' && n.startsWith('0x')
    ? Buffer.from(n.slice(2), 'hex').toString() : String(n)).replace(/\0+$/, '');
  const names = tracks.map(([, t]) => text(t.name));
  assert.deepEqual(tracks.map(([id]) => id), [0, 1]);
  assert.deepEqual(names, ['root', 'market_params']);
  // FastTracks is set on the dev chain: the metadata constant is computed from it.
  assert.equal(tracks[1][1].decisionPeriod, 20);
});

test('a signed account cannot set a parameter, through either pallet', async () => {
  const alice = keyring.addFromUri('//Alice');
  await assert.rejects(send(setWindow(15), alice), /BadOrigin/);
  await assert.rejects(
    send(api.tx.parameters.setParameter({ Market: { DisputeWindow: [null, 15] } }), alice), /BadOrigin/);
  assert.equal(await disputeWindow(), 10);
});

async function propose(call, alice) {
  const encoded = call.method.toHex();
  const hash = blake2AsHex(encoded);
  const len = (encoded.length - 2) / 2;
  await send(api.tx.preimage.notePreimage(encoded), alice);
  const ev = await send(api.tx.referenda.submit({ Origins: 'MarketParams' }, { Lookup: { hash, len } }, { After: 1 }), alice);
  const submitted = find(ev, api.events.referenda.Submitted);
  assert.ok(submitted, 'Submitted');
  assert.equal(submitted.data[1].toNumber(), 1, 'on the market_params track');
  return submitted.data[0].toNumber();
}

test('referenda on DISPUTE_WINDOW: one enacted, one rejected, one refused at enactment', async () => {
  const [alice, bob, charlie, dave] = ['//Alice', '//Bob', '//Charlie', '//Dave'].map((u) => keyring.addFromUri(u));
  assert.equal(await disputeWindow(), 10, 'the default');
  // Watch every scheduler dispatch from here on.
  const dispatched = [];
  const unsub = await api.query.system.events((events) => {
    for (const { event } of events) {
      // Named tasks only: enactments (referenda's alarms are anonymous).
      if (api.events.scheduler.Dispatched.is(event) && event.data.id.isSome) dispatched.push(event);
    }
  });

  const a = await propose(setWindow(15), alice);
  const b = await propose(setWindow(40), alice);
  const c = await propose(setWindow(2), alice);

  // Four holders with 900,000 AGR each (about 30 % of the issuance, above the
  // track's support curve from the start), conviction Locked1x…Locked3x.
  const voters = [alice, bob, charlie, dave];
  for (const [i, who] of voters.entries()) {
    const conviction = ['Locked1x', 'Locked2x', 'Locked3x', 'Locked1x'][i];
    for (const [index, aye] of [[a, true], [b, false], [c, true]]) {
      const v = { Standard: { vote: { aye, conviction }, balance: 900_000n * AGR } };
      await send(api.tx.convictionVoting.vote(index, v), who);
    }
  }
  // Still preparing (no decision deposit yet): conviction multiplies votes,
  // (1 + 2 + 3 + 1) × 900,000 AGR.
  const tally = (await api.query.referenda.referendumInfoFor(a)).unwrap().asOngoing.tally;
  assert.equal(tally.ayes.toBigInt(), 7n * 900_000n * AGR);
  assert.equal((await api.query.referenda.referendumInfoFor(b)).unwrap().asOngoing.tally.nays.toBigInt(), 7n * 900_000n * AGR);
  // Deciding starts once the decision deposit is placed.
  for (const index of [a, b, c]) await send(api.tx.referenda.placeDecisionDeposit(index), alice);

  // Prepare (1 block) → deciding (up to 20) → confirming (2) → approved →
  // enacted 1 block later; B is rejected when its decision period ends.
  const state = async (i) => {
    const info = (await api.query.referenda.referendumInfoFor(i)).unwrap();
    return info.type;
  };
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const states = await Promise.all([a, b, c].map(state));
    if (states[0] === 'Approved' && states[1] === 'Rejected' && states[2] === 'Approved' && dispatched.length >= 2) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  unsub();
  assert.equal(await state(a), 'Approved');
  assert.equal(await state(b), 'Rejected', 'voted down');
  assert.equal(await state(c), 'Approved', 'approved by the voters…');
  assert.equal(await disputeWindow(), 15, `A was enacted and nothing else changed the window\n${node.logTail()}`);

  // …but its call failed at enactment with the pallet's bounds error.
  const results = dispatched.map((e) => e.data.result);
  assert.equal(results.length, 2, `two enactments: ${dispatched.map((e) => e.toString())}`);
  assert.equal(results.filter((r) => r.isOk).length, 1);
  const err = results.find((r) => r.isErr).asErr;
  assert.ok(err.isModule);
  const meta = api.registry.findMetaError(err.asModule);
  assert.equal(`${meta.section}.${meta.name}`, 'marketParams.BelowMinimum');
});

test("every pallet's try_state passes on the chain these tests leave", async () => {
  assert.ok((await tryState(node)) > 0);
});
