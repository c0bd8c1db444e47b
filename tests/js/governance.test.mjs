// Polkadot.js against a real dev node: OpenGov. A `market_params` referendum
// changes the audit rate: the call's preimage is noted, the referendum submitted
// on the MarketParams origin, its decision deposit placed, token holders vote
// aye, and once it passes the scheduler dispatches `jobs.set_audit_rate` with the
// MarketParams origin. A signed account cannot make the same call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, blake2AsHex } from '@polkadot/util-crypto';
import { startDevNode, sendTx } from './helpers.mjs';

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

test('a signed account cannot set the audit rate', async () => {
  const alice = keyring.addFromUri('//Alice');
  await assert.rejects(send(api.tx.jobs.setAuditRate(250_000), alice), /BadOrigin/);
});

test('a market_params referendum sets the audit rate', async () => {
  const [alice, bob, charlie, dave] = ['//Alice', '//Bob', '//Charlie', '//Dave'].map((u) => keyring.addFromUri(u));
  assert.equal((await api.query.jobs.auditRatePpm()).toNumber(), 0, 'the dev chain starts at 0');
  const call = api.tx.jobs.setAuditRate(250_000);
  const encoded = call.method.toHex();
  const hash = blake2AsHex(encoded);
  const len = (encoded.length - 2) / 2;
  await send(api.tx.preimage.notePreimage(encoded), alice);

  const ev = await send(api.tx.referenda.submit({ Origins: 'MarketParams' }, { Lookup: { hash, len } }, { After: 1 }), alice);
  const submitted = find(ev, api.events.referenda.Submitted);
  assert.ok(submitted, 'Submitted');
  const index = submitted.data[0].toNumber();
  assert.equal(submitted.data[1].toNumber(), 1, 'on the market_params track');
  await send(api.tx.referenda.placeDecisionDeposit(index), alice);

  // Four holders vote aye with 900,000 AGR each: about 30 % of the issuance,
  // above the track's support curve from the start.
  for (const who of [alice, bob, charlie, dave]) {
    const v = { Standard: { vote: { aye: true, conviction: 'Locked1x' }, balance: 900_000n * AGR } };
    await send(api.tx.convictionVoting.vote(index, v), who);
  }
  const tally = (await api.query.referenda.referendumInfoFor(index)).unwrap().asOngoing.tally;
  assert.ok(tally.ayes.toBigInt() > 0n && tally.nays.toBigInt() === 0n);

  // Prepare (1 block) → deciding → confirming (2 blocks) → approved → enacted 1 block later.
  const deadline = Date.now() + 150_000;
  let rate = 0;
  while (Date.now() < deadline) {
    rate = (await api.query.jobs.auditRatePpm()).toNumber();
    if (rate === 250_000) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.equal(rate, 250_000, `the referendum was enacted\n${node.logTail()}`);
  const info = await api.query.referenda.referendumInfoFor(index);
  assert.ok(info.unwrap().isApproved, `approved: ${info.toString()}`);
});
