// Polkadot.js against a real dev node: metadata, chain properties, and a
// finalized balances.transferKeepAlive with its Transfer event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, tryState } from './helpers.mjs';

let node;
before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
});
after(async () => { if (node) await node.stop(); });

test('metadata loads with the Agora pallets', async () => {
  const { api } = node;
  assert.equal(api.runtimeVersion.specName.toString(), 'agora');
  for (const pallet of ['system', 'timestamp', 'babe', 'grandpa', 'balances', 'transactionPayment', 'session', 'sudo']) {
    assert.ok(api.query[pallet], `pallet ${pallet} in metadata`);
  }
  assert.ok(api.tx.balances.transferKeepAlive, 'balances.transferKeepAlive callable');
});

test('chain properties: AGR with 12 decimals', async () => {
  const { api } = node;
  const props = await api.rpc.system.properties();
  assert.deepEqual(props.tokenSymbol.unwrap().map((s) => s.toString()), ['AGR']);
  assert.deepEqual(props.tokenDecimals.unwrap().map((d) => d.toNumber()), [12]);
  assert.equal(props.ss58Format.unwrap().toNumber(), 4242);
  assert.equal(api.registry.chainSS58, 4242);
  assert.deepEqual(api.registry.chainTokens, ['AGR']);
  // Session keys carry three keys: babe, grandpa and agora.
  const keysType = api.query.session.nextKeys.creator.meta.type.asMap.value;
  const def = api.registry.lookup.getTypeDef(keysType);
  assert.deepEqual(def.sub.map((s) => s.name), ['babe', 'grandpa', 'agora']);
});

test('balances.transferKeepAlive is finalized and emits Transfer', async () => {
  const { api, logTail } = node;
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 4242 });
  const alice = keyring.addFromUri('//Alice');
  const dest = keyring.addFromUri('//AgoraJsTest');
  const amount = 7n * 10n ** 12n; // 7 AGR

  const before = (await api.query.system.account(dest.address)).data.free.toBigInt();
  const events = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not finalized in 90 s\n${logTail()}`)), 90_000);
    api.tx.balances.transferKeepAlive(dest.address, amount)
      .signAndSend(alice, ({ status, events, dispatchError }) => {
        if (dispatchError) { clearTimeout(timer); reject(new Error(dispatchError.toString())); }
        if (status.isFinalized) { clearTimeout(timer); resolve(events); }
      })
      .catch((e) => { clearTimeout(timer); reject(e); });
  });

  const transfer = events.map(({ event }) => event).find((e) => api.events.balances.Transfer.is(e));
  assert.ok(transfer, 'a balances.Transfer event');
  const [from, to, value] = transfer.data;
  assert.equal(from.toString(), alice.address);
  assert.equal(to.toString(), dest.address);
  assert.equal(value.toBigInt(), amount);
  assert.ok(events.some(({ event }) => api.events.system.ExtrinsicSuccess.is(event)));

  const after = (await api.query.system.account(dest.address)).data.free.toBigInt();
  assert.equal(after - before, amount);
});

test("every pallet's try_state passes on the chain these tests leave", async () => {
  assert.ok((await tryState(node)) > 0);
});
