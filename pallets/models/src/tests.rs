//! Tests of `pallet-models`: the registry, offers, the worker-key rule, the
//! pause-on-low-bond path, and every error with `assert_noop!`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate::{mock::*, Error, Event, ModelOfferCount, ModelOffers, Models as ModelsStore, Offers, WorkerKeys};
use agora_primitives::{DeterminismProfile, OfferStatus, ProviderBonds, SlashReason};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};

const KEY_A: [u8; 32] = [0xaa; 32];
const KEY_B: [u8; 32] = [0xbb; 32];

pub(crate) fn register(publisher: AccountId, tag: u8) -> [u8; 32] {
	let m = manifest(publisher, tag);
	let id = m.id();
	assert_ok!(Models::register_model(RuntimeOrigin::signed(publisher), m));
	id
}

pub(crate) fn bond(who: AccountId) {
	assert_ok!(Slashing::bond(RuntimeOrigin::signed(who), MIN_STAKE * 2));
}

pub(crate) fn open(who: AccountId, model: [u8; 32], key: [u8; 32]) -> u64 {
	let id = crate::NextOfferId::<Test>::get();
	assert_ok!(Models::open_offer(
		RuntimeOrigin::signed(who),
		model,
		key,
		10,
		5,
		b"http://93.184.216.34:8080".to_vec(),
		4,
		b"cpu".to_vec()
	));
	id
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

#[test]
fn register_model_is_content_addressed() {
	build_and_execute(|| {
		let m = manifest(ALICE, 1);
		let id = m.id();
		assert_eq!(id, sp_io::hashing::blake2_256(&codec::Encode::encode(&m)));
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), m.clone()));
		let view = Models::model(id).unwrap();
		assert_eq!(view.manifest, m);
		assert!(!view.deprecated);
		assert_eq!(Models::models().len(), 1);
		assert_eq!(
			last_event(),
			Event::ModelRegistered { model_id: id, publisher: ALICE, manifest: m }.into()
		);
	});
}

#[test]
fn register_model_errors_write_nothing() {
	build_and_execute(|| {
		let good = manifest(ALICE, 1);
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(BOB), good.clone()),
			Error::<Test>::NotPublisher
		);
		let mut m = good.clone();
		m.name = vec![];
		assert_noop!(Models::register_model(RuntimeOrigin::signed(ALICE), m), Error::<Test>::EmptyName);
		for field in 0..4 {
			let mut m = good.clone();
			let long = vec![b'x'; 65];
			match field {
				0 => m.name = long,
				1 => m.architecture = long,
				2 => m.quantization = long,
				_ => m.licence = long,
			}
			assert_noop!(
				Models::register_model(RuntimeOrigin::signed(ALICE), m),
				Error::<Test>::TextTooLong
			);
		}
		let mut m = good.clone();
		m.royalty_bps = 10_001;
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), m),
			Error::<Test>::RoyaltyTooHigh
		);
		let mut m = good.clone();
		// TeacherForced with a tolerance out of range, and profiles for the wrong task.
		let mut gen = agora_primitives::models::shipped::smollm2(ALICE);
		for eps_milli in [0, agora_primitives::models::MAX_EPS_MILLI + 1] {
			gen.determinism = DeterminismProfile::TeacherForced { eps_milli };
			assert_noop!(
				Models::register_model(RuntimeOrigin::signed(ALICE), gen.clone()),
				Error::<Test>::InvalidDeterminism
			);
		}
		gen.determinism = DeterminismProfile::Cosine { min_cosine_ppm: 990_000 };
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), gen),
			Error::<Test>::InvalidDeterminism
		);
		m.determinism = DeterminismProfile::TeacherForced { eps_milli: 500 };
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), m.clone()),
			Error::<Test>::InvalidDeterminism
		);
		let mut m = good.clone();
		m.determinism = DeterminismProfile::Cosine { min_cosine_ppm: 1_000_001 };
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), m),
			Error::<Test>::InvalidDeterminism
		);
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), good.clone()));
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), good),
			Error::<Test>::ModelExists
		);
		for tag in 2..=MAX_PER_PUBLISHER as u8 {
			register(ALICE, tag);
		}
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), manifest(ALICE, 200)),
			Error::<Test>::TooManyModelsForPublisher
		);
		for tag in MAX_PER_PUBLISHER as u8 + 1..=MAX_MODELS as u8 {
			register(BOB, tag);
		}
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(CAROL), manifest(CAROL, 200)),
			Error::<Test>::TooManyModels
		);
	});
}

#[test]
fn deprecate_model_and_its_errors() {
	build_and_execute(|| {
		assert_noop!(
			Models::deprecate_model(RuntimeOrigin::signed(ALICE), [9; 32]),
			Error::<Test>::UnknownModel
		);
		let id = register(ALICE, 1);
		assert_noop!(
			Models::deprecate_model(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::NotPublisher
		);
		assert_ok!(Models::deprecate_model(RuntimeOrigin::signed(ALICE), id));
		assert!(Models::model(id).unwrap().deprecated);
		assert_eq!(last_event(), Event::ModelDeprecated { model_id: id }.into());
		assert_noop!(
			Models::deprecate_model(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::AlreadyDeprecated
		);
		// A deprecated model takes no offers.
		bond(BOB);
		assert_noop!(
			Models::open_offer(
				RuntimeOrigin::signed(BOB),
				id,
				KEY_A,
				1,
				1,
				b"http://p.example".to_vec(),
				1,
				vec![]
			),
			Error::<Test>::ModelDeprecated
		);
	});
}

#[test]
fn open_offer_indexes_it_everywhere() {
	build_and_execute(|| {
		let model = register(ALICE, 1);
		bond(BOB);
		let id = open(BOB, model, KEY_A);
		let o = Offers::<Test>::get(id).unwrap();
		assert_eq!(o.provider, BOB);
		assert_eq!(o.status, OfferStatus::Active);
		assert_eq!((o.slot, ModelOffers::<Test>::get(model, 0)), (0, Some(id)), "the model's first slot");
		assert_eq!(ModelOfferCount::<Test>::get(model), 1);
		assert_eq!(WorkerKeys::<Test>::get(KEY_A), Some((BOB, 1)));
		assert_eq!(Models::offers_for(model).len(), 1);
		assert_eq!(Models::provider_offers(&BOB), vec![id]);
		assert_eq!(
			last_event(),
			Event::OfferOpened {
				offer_id: id,
				provider: BOB,
				model_id: model,
				worker_key: KEY_A,
				base_price: 10,
				price_per_1k_tokens: 5,
				endpoint: b"http://93.184.216.34:8080".to_vec(),
				capacity: 4,
				hardware: b"cpu".to_vec(),
			}
			.into()
		);
	});
}

#[test]
fn a_worker_key_serves_one_provider_but_several_offers() {
	build_and_execute(|| {
		let m1 = register(ALICE, 1);
		let m2 = register(ALICE, 2);
		bond(BOB);
		bond(CAROL);
		open(BOB, m1, KEY_A);
		open(BOB, m2, KEY_A);
		assert_eq!(WorkerKeys::<Test>::get(KEY_A), Some((BOB, 2)));
		assert_noop!(
			Models::open_offer(
				RuntimeOrigin::signed(CAROL),
				m1,
				KEY_A,
				1,
				1,
				b"https://carol.example".to_vec(),
				1,
				vec![]
			),
			Error::<Test>::WorkerKeyInUse
		);
		open(CAROL, m1, KEY_B);
	});
}

#[test]
fn open_offer_errors_write_nothing() {
	build_and_execute(|| {
		let model = register(ALICE, 1);
		let call = |who: AccountId,
		            model: [u8; 32],
		            base: Balance,
		            per_1k: Balance,
		            endpoint: &[u8],
		            cap: u32,
		            hw: &[u8]| {
			Models::open_offer(
				RuntimeOrigin::signed(who),
				model,
				KEY_A,
				base,
				per_1k,
				endpoint.to_vec(),
				cap,
				hw.to_vec(),
			)
		};
		assert_noop!(call(BOB, [7; 32], 1, 1, b"http://p.example", 1, b""), Error::<Test>::UnknownModel);
		// No bond at all, then a bond that is only unbonding.
		assert_noop!(call(BOB, model, 1, 1, b"http://p.example", 1, b""), Error::<Test>::NotBonded);
		bond(BOB);
		assert_ok!(Slashing::unbond(RuntimeOrigin::signed(BOB), MIN_STAKE * 2));
		assert_noop!(call(BOB, model, 1, 1, b"http://p.example", 1, b""), Error::<Test>::NotBonded);
		assert_ok!(Slashing::bond_extra(RuntimeOrigin::signed(BOB), MIN_STAKE));
		// Prices.
		assert_noop!(call(BOB, model, 0, 0, b"http://p.example", 1, b""), Error::<Test>::ZeroPrice);
		assert_noop!(
			call(BOB, model, 1, Balance::MAX / 2, b"http://p.example", 1, b""),
			Error::<Test>::PriceOverflow
		);
		assert_noop!(
			call(BOB, model, Balance::MAX, 1, b"http://p.example", 1, b""),
			Error::<Test>::PriceOverflow
		);
		// Capacity.
		assert_noop!(call(BOB, model, 1, 1, b"http://p.example", 0, b""), Error::<Test>::InvalidCapacity);
		assert_noop!(
			call(BOB, model, 1, 1, b"http://p.example", MAX_CAPACITY + 1, b""),
			Error::<Test>::InvalidCapacity
		);
		// Endpoint.
		let long = [b"http://".as_slice(), &[b'a'; MAX_ENDPOINT as usize]].concat();
		assert_noop!(call(BOB, model, 1, 1, &long, 1, b""), Error::<Test>::EndpointTooLong);
		for bad in [b"ftp://x".as_slice(), b"127.0.0.1:80", b"http://", b"https://", b""] {
			assert_noop!(call(BOB, model, 1, 1, bad, 1, b""), Error::<Test>::InvalidEndpoint);
		}
		// Hardware tag.
		assert_noop!(
			call(BOB, model, 1, 1, b"http://p.example", 1, &[b'h'; MAX_HARDWARE as usize + 1]),
			Error::<Test>::HardwareTooLong
		);
		// Per-provider limit.
		for _ in 0..MAX_OFFERS {
			assert_ok!(call(BOB, model, 1, 1, b"http://p.example", 1, b""));
		}
		assert_noop!(call(BOB, model, 1, 1, b"http://p.example", 1, b""), Error::<Test>::TooManyOffers);
	});
}

#[test]
fn offer_ids_overflow_is_refused() {
	build_and_execute(|| {
		let model = register(ALICE, 1);
		bond(BOB);
		crate::NextOfferId::<Test>::put(u64::MAX);
		assert_noop!(
			Models::open_offer(
				RuntimeOrigin::signed(BOB),
				model,
				KEY_A,
				1,
				1,
				b"http://p.example".to_vec(),
				1,
				vec![]
			),
			Error::<Test>::Overflow
		);
	});
}

/// A provider that served a wrong paid answer closes the offer that signed it,
/// to leave the challenger no offer to name: the offer's signer is kept
/// `OfferRetention` blocks (20 in the mock), then forgotten by
/// `on_initialize`.
#[test]
fn a_closed_offer_still_names_its_signer_until_its_retention_ends() {
	use agora_primitives::OfferRegistry;
	use frame_support::traits::Hooks;
	build_and_execute(|| {
		let model = register(ALICE, 1);
		bond(BOB);
		let id = open(BOB, model, KEY_A);
		let signer = agora_primitives::OfferSigner { provider: BOB, model_id: model, worker_key: KEY_A };
		assert_eq!(Models::offer_signer(id), Some(signer.clone()));
		System::set_block_number(5);
		assert_ok!(Models::close_offer(RuntimeOrigin::signed(BOB), id));
		assert!(Models::offer(id).is_none(), "closed: no terms, no jobs");
		assert_eq!(Models::offer_signer(id), Some(signer.clone()), "but its signer is kept");
		let kept = crate::ClosedOffers::<Test>::get(id).unwrap();
		assert_eq!(kept.expires_at, 25);
		Models::do_try_state().unwrap();
		// Reopening with the same key is the provider's right; the old record stays.
		let again = open(BOB, model, KEY_A);
		assert_eq!(Models::offer_signer(again).map(|s| s.worker_key), Some(KEY_A));
		for n in 6..25 {
			System::set_block_number(n);
			Models::on_initialize(n);
		}
		assert_eq!(Models::offer_signer(id), Some(signer));
		System::set_block_number(25);
		Models::on_initialize(25);
		assert!(Models::offer_signer(id).is_none(), "forgotten once its retention ended");
		assert!(crate::ClosedExpiry::<Test>::get(25).is_empty());
		assert!(Models::offer_signer(99).is_none());
	});
}

/// Closes whose records expire in the same block overflow into the next
/// blocks' queues (at most `MaxClosuresPerBlock`, 4 in the mock, each); when
/// 16 blocks are full the close is refused and nothing moves.
#[test]
fn closures_fill_one_expiry_block_then_the_next() {
	build_and_execute(|| {
		let model = register(ALICE, 1);
		bond(BOB);
		// Another party's closes fill every queue a close at block 1 could use.
		for q in 21..37u64 {
			let ids: Vec<u64> = (0..4).map(|i| 1_000 + q * 4 + i).collect();
			crate::ClosedExpiry::<Test>::insert(q, frame_support::BoundedVec::truncate_from(ids));
		}
		let id = open(BOB, model, KEY_A);
		assert_noop!(Models::close_offer(RuntimeOrigin::signed(BOB), id), Error::<Test>::ClosuresFull);
		crate::ClosedExpiry::<Test>::mutate(30, |q| {
			q.pop();
		});
		assert_ok!(Models::close_offer(RuntimeOrigin::signed(BOB), id));
		assert_eq!(crate::ClosedOffers::<Test>::get(id).unwrap().expires_at, 30);
		// Clear the fake entries so the invariants hold.
		for q in 21..37u64 {
			crate::ClosedExpiry::<Test>::mutate(q, |v| v.retain(|x| *x < 1_000));
		}
	});
}

#[test]
fn update_pause_resume_close() {
	build_and_execute(|| {
		let model = register(ALICE, 1);
		bond(BOB);
		let id = open(BOB, model, KEY_A);
		assert_ok!(Models::update_offer(
			RuntimeOrigin::signed(BOB),
			id,
			20,
			7,
			b"https://bob.example".to_vec(),
			8,
			b"cuda".to_vec()
		));
		let o = Offers::<Test>::get(id).unwrap();
		assert_eq!((o.base_price, o.price_per_1k_tokens, o.capacity), (20, 7, 8));
		assert_eq!(o.endpoint.into_inner(), b"https://bob.example".to_vec());

		assert_ok!(Models::pause_offer(RuntimeOrigin::signed(BOB), id));
		assert_eq!(Offers::<Test>::get(id).unwrap().status, OfferStatus::Paused);
		assert_eq!(
			last_event(),
			Event::OfferPaused { offer_id: id, provider: BOB, bond_too_low: false }.into()
		);
		assert_ok!(Models::resume_offer(RuntimeOrigin::signed(BOB), id));
		assert_eq!(Offers::<Test>::get(id).unwrap().status, OfferStatus::Active);

		assert_ok!(Models::close_offer(RuntimeOrigin::signed(BOB), id));
		assert!(Offers::<Test>::get(id).is_none());
		assert!(WorkerKeys::<Test>::get(KEY_A).is_none());
		assert!(Models::offers_for(model).is_empty());
		assert_eq!(
			last_event(),
			Event::OfferClosed { offer_id: id, provider: BOB, model_id: model }.into()
		);
	});
}

#[test]
fn offer_management_errors_write_nothing() {
	build_and_execute(|| {
		let model = register(ALICE, 1);
		bond(BOB);
		let id = open(BOB, model, KEY_A);
		let upd = |who, id| {
			Models::update_offer(RuntimeOrigin::signed(who), id, 1, 1, b"http://p.example".to_vec(), 1, vec![])
		};
		assert_noop!(upd(BOB, 99), Error::<Test>::UnknownOffer);
		assert_noop!(upd(CAROL, id), Error::<Test>::NotOfferOwner);
		assert_noop!(
			Models::update_offer(RuntimeOrigin::signed(BOB), id, 0, 0, b"http://p.example".to_vec(), 1, vec![]),
			Error::<Test>::ZeroPrice
		);
		assert_noop!(Models::pause_offer(RuntimeOrigin::signed(CAROL), id), Error::<Test>::NotOfferOwner);
		assert_noop!(Models::pause_offer(RuntimeOrigin::signed(BOB), 99), Error::<Test>::UnknownOffer);
		assert_noop!(Models::resume_offer(RuntimeOrigin::signed(BOB), id), Error::<Test>::NotPaused);
		assert_ok!(Models::pause_offer(RuntimeOrigin::signed(BOB), id));
		assert_noop!(Models::pause_offer(RuntimeOrigin::signed(BOB), id), Error::<Test>::AlreadyPaused);
		// Resuming needs a bond at the minimum, and a model that is not deprecated.
		<Slashing as ProviderBonds<_>>::slash_exact(&BOB, SlashReason::Fraud, MIN_STAKE + 1, None)
			.unwrap();
		assert_noop!(Models::resume_offer(RuntimeOrigin::signed(BOB), id), Error::<Test>::NotBonded);
		assert_ok!(Slashing::bond_extra(RuntimeOrigin::signed(BOB), MIN_STAKE));
		assert_ok!(Models::deprecate_model(RuntimeOrigin::signed(ALICE), model));
		assert_noop!(
			Models::resume_offer(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::ModelDeprecated
		);
		assert_noop!(Models::close_offer(RuntimeOrigin::signed(CAROL), id), Error::<Test>::NotOfferOwner);
		assert_noop!(Models::close_offer(RuntimeOrigin::signed(BOB), 99), Error::<Test>::UnknownOffer);
	});
}

#[test]
fn a_slash_below_the_minimum_pauses_every_offer() {
	build_and_execute(|| {
		let m1 = register(ALICE, 1);
		let m2 = register(ALICE, 2);
		bond(BOB);
		let a = open(BOB, m1, KEY_A);
		let b = open(BOB, m2, KEY_A);
		let treasury_before = Balances::balance(&TREASURY);
		<Slashing as ProviderBonds<_>>::slash_exact(&BOB, SlashReason::MissedDeadline, MIN_STAKE + 1, None)
			.unwrap();
		assert_eq!(Balances::balance(&TREASURY), treasury_before + MIN_STAKE + 1);
		for id in [a, b] {
			assert_eq!(Offers::<Test>::get(id).unwrap().status, OfferStatus::Paused);
			assert!(System::events().iter().any(|r| r.event ==
				Event::OfferPaused { offer_id: id, provider: BOB, bond_too_low: true }.into()));
		}
	});
}

#[test]
fn unbonding_below_the_minimum_pauses_offers() {
	build_and_execute(|| {
		let model = register(ALICE, 1);
		bond(BOB);
		let id = open(BOB, model, KEY_A);
		assert_ok!(Slashing::unbond(RuntimeOrigin::signed(BOB), MIN_STAKE + 1));
		assert_eq!(Offers::<Test>::get(id).unwrap().status, OfferStatus::Paused);
		assert_eq!(ModelsStore::<Test>::count(), 1);
	});
}

#[test]
fn provider_view_reports_bond_and_offers() {
	build_and_execute(|| {
		assert!(Models::provider::<u64>(&BOB, None).is_none());
		let model = register(ALICE, 1);
		bond(BOB);
		let id = open(BOB, model, KEY_A);
		let v = Models::provider(&BOB, Some((MIN_STAKE * 2, vec![(5, 11u64)]))).unwrap();
		assert_eq!(v.offers, vec![id]);
		assert!(v.bonded);
		assert_eq!(v.unlocking, vec![(5, 11)]);
	});
}

#[test]
fn integrity_test_passes() {
	use frame_support::traits::Hooks;
	new_test_ext().execute_with(|| {
		<Models as Hooks<u64>>::integrity_test();
	});
}

/// A job reads consecutive slots of its model's offer index from a drawn
/// start, wrapping around; closing an offer moves the last one into its slot,
/// so the slots stay dense and every offer is read by the same share of starts.
#[test]
fn offer_windows_wrap_around_and_read_every_offer_equally() {
	use std::collections::{BTreeMap, BTreeSet};
	build_and_execute(|| {
		let model = register(ALICE, 1);
		let mut all = Vec::new();
		for (who, keys) in [(ALICE, [1u8, 2, 3]), (BOB, [4, 5, 6]), (CAROL, [7, 8, 9])] {
			bond(who);
			for k in keys {
				all.push(open(who, model, [k; 32]));
			}
		}
		// Slots in opening order.
		assert_eq!(Models::offer_window(&model, 9, 0), all, "from slot 0: all, in slot order");
		assert_eq!(Models::offer_window(&model, 20, 5).len(), 9, "never an offer twice");
		assert_eq!(Models::offer_window(&model, 4, 16), vec![all[7], all[8], all[0], all[1]], "16 mod 9 = 7: wraps");

		// Close the 3rd (slot 2): the last (slot 8) moves into it.
		assert_ok!(Models::close_offer(RuntimeOrigin::signed(ALICE), all[2]));
		assert_eq!(ModelOfferCount::<Test>::get(model), 8);
		assert_eq!(ModelOffers::<Test>::get(model, 2), Some(all[8]));
		assert_eq!(Offers::<Test>::get(all[8]).unwrap().slot, 2);
		assert_eq!(ModelOffers::<Test>::get(model, 8), None);
		// Close the new last (slot 7): nothing moves.
		assert_ok!(Models::close_offer(RuntimeOrigin::signed(CAROL), all[7]));
		assert_eq!(ModelOfferCount::<Test>::get(model), 7);
		let open_now: BTreeSet<u64> = all.iter().copied().filter(|id| Offers::<Test>::contains_key(id)).collect();

		// Over every start mod 7, windows of 3 read each of the 7 offers
		// exactly 3 times; over seeded starts, every offer is read.
		let mut reads = BTreeMap::<u64, u32>::new();
		for start in 0..7u64 {
			let w = Models::offer_window(&model, 3, start + 7 * 1_000);
			assert_eq!(w.iter().collect::<BTreeSet<_>>().len(), 3);
			for id in w {
				*reads.entry(id).or_default() += 1;
			}
		}
		assert_eq!(reads.keys().copied().collect::<BTreeSet<_>>(), open_now);
		assert!(reads.values().all(|r| *r == 3), "{reads:?}");
		let mut seen = BTreeSet::new();
		for s in 0..64u8 {
			seen.extend(Models::offer_window(&model, 3, agora_primitives::rules::scan_start(&[s; 32])));
		}
		assert_eq!(seen, open_now, "every offer is read by some jobs");

		// Closing the rest empties the index and its count.
		for id in open_now {
			let who = Offers::<Test>::get(id).unwrap().provider;
			assert_ok!(Models::close_offer(RuntimeOrigin::signed(who), id));
		}
		assert!(!ModelOfferCount::<Test>::contains_key(model));
		assert!(Models::offer_window(&model, 3, 1).is_empty());
	});
}
