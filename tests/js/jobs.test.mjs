// Polkadot.js against a real dev node: the paid job lifecycle, with receipts
// signed in JS by the dev provider's worker key (Bob's sr25519 key).
//   submit -> receipt -> finalize: provider paid, fee to the treasury, royalty
//   to the publisher, the rest refunded to the client;
//   submit -> no receipt -> expiry: full refund, provider slashed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, blake2AsU8a, encodeAddress } from '@polkadot/util-crypto';
import { u8aConcat, u8aToHex, stringToU8a } from '@polkadot/util';
import { startDevNode, sendTx, waitForBlock, tryState } from './helpers.mjs';

const AGR = 10n ** 12n;
const MILLI = AGR / 1000n;
let node, keyring, alice, bob, dave, ferdie, eve, treasury, smolId;

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 4242 });
  [alice, bob, dave, ferdie, eve] = ['//Alice', '//Bob', '//Dave', '//Ferdie', '//Eve'].map((u) => keyring.addFromUri(u));
  // The treasury: PalletId "py/trsry" as an account ("modl" ++ id, zero padded).
  treasury = encodeAddress(u8aConcat(stringToU8a('modl'), stringToU8a('py/trsry'), new Uint8Array(20)), 4242);
  const models = await node.api._rpcCore.provider.send('agora_models', []);
  smolId = models.find((m) => m.name === 'SmolLM2-135M-Instruct').id;
});
after(async () => { if (node) await node.stop(); });

const free = async (who) => (await node.api.query.system.account(who)).data.free.toBigInt();
const jobOf = async (id) => (await node.api.query.jobs.jobs(id)).unwrap();
const find = (events, ev) => events.find(({ event }) => ev.is(event))?.event;

/** Builds and signs (with Bob's worker key) a receipt for `jobId`. */
function signedReceipt(job, jobId, output, tokens) {
  const { api } = node;
  const input = job.input.isInline ? job.input.asInline : null;
  const receipt = {
    jobId,
    modelId: job.modelId,
    inputHash: input ? blake2AsU8a(input, 256) : job.input.asHash,
    outputHash: blake2AsU8a(output, 256),
    outputTokens: tokens,
    provider: job.provider,
    workerPubkey: bob.publicKey,
  };
  // The receipt's SCALE bytes, exactly as the runtime decodes the call argument.
  const encoded = api.tx.jobs.submitReceipt(jobId, receipt, new Uint8Array(64)).args[1].toU8a();
  const signature = bob.sign(u8aConcat(stringToU8a('agora/receipt/v1'), encoded));
  return { receipt, signature };
}

test('submit -> receipt -> finalize pays provider, treasury and publisher, refunds the rest', async () => {
  const { api } = node;
  const maxPrice = 100n * MILLI;
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  const [bob0, alice0, treasury0] = [await free(bob.address), await free(alice.address), await free(treasury)];

  const submitted = await sendTx(node, api.tx.jobs.submitJob(
    smolId, { Inline: 'What is 2+2?' }, { maxTokens: 2000, temperatureMilli: 0, seed: 0 },
    maxPrice, head + 50, null), dave);
  const assigned = find(submitted, api.events.jobs.JobAssigned);
  assert.ok(assigned, 'JobAssigned');
  const jobId = assigned.data.jobId.toNumber();
  assert.equal(assigned.data.provider.toString(), bob.address, 'the only offer is Bob\'s');
  assert.equal(u8aToHex(assigned.data.workerKey), u8aToHex(bob.publicKey));
  assert.equal(assigned.data.byAvrf.isTrue, true);
  const dave0 = await free(dave.address);

  const job = await jobOf(jobId);
  const { receipt, signature } = signedReceipt(job, jobId, stringToU8a('4'), 1500);
  // Ferdie submits it (anyone may; the signature is what counts), so Bob pays no fee.
  const rEvents = await sendTx(node, api.tx.jobs.submitReceipt(jobId, receipt, signature), ferdie);
  const receipted = find(rEvents, api.events.jobs.JobReceipted);
  assert.ok(receipted, 'JobReceipted');
  const finalizeAt = receipted.data.finalizeAt.toNumber();

  await waitForBlock(node, finalizeAt + 1);
  const done = await jobOf(jobId);
  assert.equal(done.status.toString(), 'Finalized');
  // charge = min(max_price, base + per_1k × tokens / 1000) = 1 mAGR + 10 mAGR × 1.5
  const charge = MILLI + (10n * MILLI * 1500n) / 1000n;
  assert.equal(done.charge.unwrap().toBigInt(), charge);
  const fee = (charge * 2n) / 100n;       // PROTOCOL_FEE 2%
  const royalty = (charge * 1n) / 100n;   // SmolLM2's royalty: 100 bps
  assert.equal((await free(bob.address)) - bob0, charge - fee - royalty, 'provider paid');
  assert.equal((await free(treasury)) - treasury0, fee, 'fee to the treasury');
  assert.equal((await free(alice.address)) - alice0, royalty, 'royalty to the publisher');
  assert.equal((await free(dave.address)) - dave0, maxPrice - charge, 'the rest refunded to the client');

  // Rating: once, by the client only.
  await assert.rejects(sendTx(node, api.tx.jobs.rate(jobId, 1), ferdie), /jobs\.NotClient/);
  await sendTx(node, api.tx.jobs.rate(jobId, 1), dave);
  await assert.rejects(sendTx(node, api.tx.jobs.rate(jobId, 1), dave), /jobs\.AlreadyRated/);
});

test('bad receipts are refused with specific errors', async () => {
  const { api } = node;
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  const ev = await sendTx(node, api.tx.jobs.submitJob(
    smolId, { Inline: 'hi' }, { maxTokens: 100, temperatureMilli: 0, seed: 0 }, 50n * MILLI, head + 40, bob.address), eve);
  const jobId = find(ev, api.events.jobs.JobAssigned).data.jobId.toNumber();
  const job = await jobOf(jobId);
  const { receipt, signature } = signedReceipt(job, jobId, stringToU8a('x'), 10);
  const forged = new Uint8Array(signature); forged[0] ^= 1;
  await assert.rejects(sendTx(node, api.tx.jobs.submitReceipt(jobId, receipt, forged), ferdie), /jobs\.BadSignature/);
  const tooMany = signedReceipt(job, jobId, stringToU8a('x'), 101);
  await assert.rejects(sendTx(node, api.tx.jobs.submitReceipt(jobId, tooMany.receipt, tooMany.signature), ferdie), /jobs\.TooManyTokens/);
  await assert.rejects(sendTx(node, api.tx.jobs.finalize(jobId), ferdie), /jobs\.InvalidState/);
  // The client may still cancel (Bob never acknowledged it).
  const e0 = await free(eve.address);
  const cancelled = await sendTx(node, api.tx.jobs.cancelJob(jobId), eve);
  assert.equal((await jobOf(jobId)).status.toString(), 'Cancelled');
  const fee = find(cancelled, api.events.transactionPayment.TransactionFeePaid).data.actualFee.toBigInt();
  assert.equal((await free(eve.address)) - e0, 50n * MILLI - fee, 'the whole escrow returned (the tx fee aside)');
  assert.equal(find(cancelled, api.events.escrow.Refunded).data.amount.toBigInt(), 50n * MILLI);
});

test('orders the verifier could not check are refused at submit, and move no funds', async () => {
  const { api } = node;
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  const before = await free(eve.address);
  const reserved = async () => (await api.query.system.account(eve.address)).data.reserved.toBigInt();
  const held = await reserved();
  const order = (input, params) => api.tx.jobs.submitJob(smolId, input, params, 50n * MILLI, head + 40, null);
  // A temperature beyond MAX_TEMPERATURE_MILLI (2.0), up to u32::MAX.
  for (const temperatureMilli of [2001, 4_000_000_000]) {
    await assert.rejects(sendTx(node, order({ Inline: 'hi' }, { maxTokens: 10, temperatureMilli, seed: 0 }), eve),
      /jobs\.TemperatureTooHigh/);
  }
  await assert.rejects(sendTx(node, order({ Inline: '' }, { maxTokens: 10, temperatureMilli: 0, seed: 0 }), eve),
    /jobs\.EmptyInput/);
  // An embedding model does not sample.
  const models = await api._rpcCore.provider.send('agora_models', []);
  const minilm = models.find((m) => m.name === 'all-MiniLM-L6-v2').id;
  await assert.rejects(sendTx(node, api.tx.jobs.submitJob(minilm, { Inline: 'a cat' },
    { maxTokens: 1, temperatureMilli: 700, seed: 0 }, 50n * MILLI, head + 40, null), eve), /jobs\.SamplingNotSupported/);
  // Only the four failed calls' fees were paid (~5 mAGR each; a 50 mAGR escrow
  // would show), and nothing more is held.
  const after = await free(eve.address);
  assert.ok(before - after < 4n * 10n * MILLI, `eve paid only fees: ${before - after}`);
  assert.equal(await reserved(), held, 'nothing more held');
});

test('submit -> no receipt -> expiry refunds in full and slashes the provider', async () => {
  const { api } = node;
  const maxPrice = 30n * MILLI;
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  const bond0 = (await api.query.slashing.bonds(bob.address)).unwrap().active.toBigInt();
  const treasury0 = await free(treasury);
  const ev = await sendTx(node, api.tx.jobs.submitJob(
    smolId, { Inline: 'never answered' }, { maxTokens: 100, temperatureMilli: 0, seed: 0 }, maxPrice, head + 3, null), ferdie);
  const jobId = find(ev, api.events.jobs.JobAssigned).data.jobId.toNumber();
  const deadline = (await jobOf(jobId)).deadline.toNumber();
  const ferdie0 = await free(ferdie.address);

  await waitForBlock(node, deadline + 2);
  const job = await jobOf(jobId);
  assert.equal(job.status.toString(), 'Expired');
  assert.equal((await free(ferdie.address)) - ferdie0, maxPrice, 'full refund');
  const bond1 = (await api.query.slashing.bonds(bob.address)).unwrap().active.toBigInt();
  const slashed = bond0 / 100n; // MISSED_DEADLINE_SLASH 1%
  assert.equal(bond0 - bond1, slashed, 'provider slashed');
  assert.equal((await free(treasury)) - treasury0, slashed, 'slash to the treasury');
});

test("every pallet's try_state passes on the chain these tests leave", async () => {
  assert.ok((await tryState(node)) > 0);
});
