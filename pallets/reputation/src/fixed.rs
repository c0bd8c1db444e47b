//! Deterministic fixed-point maths for the reputation score (no floats).
//!
//! Numbers carry 18 decimals in `u128`/`i128` (`ONE` = 1.0).
//!
//! **`e^(-y)`, y ≥ 0** — range reduction by ln 2: `y = k·ln2 + r` with integer `k`
//! and `0 ≤ r < ln2`, so `e^(-y) = 2^(-k) · e^(-r)`. `e^(-r)` is the Taylor series
//! `Σ (-r)^n / n!` to `n = 24`; for `r < 0.7` the first omitted term is below
//! `0.7^25 / 25! < 1e-29`, so the series is exact to the 1e-18 grid up to about
//! 25 rounding steps (< 3e-17). `2^(-k)` is a right shift. Beyond `y = 64`,
//! `e^(-y) < 2e-28` and the function returns 0.
//!
//! **Logistic** — `σ(x) = 1 / (1 + e^(-x))`, computed as `1/(1+e^(-x))` for
//! `x ≥ 0` and `e^x/(1+e^x)` for `x < 0`, so `e^` only ever sees non-positive
//! exponents and nothing overflows.
//!
//! The score in milli-points is `round(100,000 · σ(θ·S))`; the tests compare it with
//! `f64` over the whole input range (max error 0.0005 points from the final
//! rounding plus < 1e-12 from the arithmetic: far below the 0.01-point bound).

/// 1.0 with 18 decimals.
pub const ONE: u128 = 1_000_000_000_000_000_000;
/// ln 2 with 18 decimals.
pub const LN2: u128 = 693_147_180_559_945_309;
/// Beyond this `e^(-y)` is 0 on the 1e-18 grid.
const Y_MAX: u128 = 64 * ONE;
/// Series terms.
const TERMS: u128 = 24;

/// `e^(-y)` for `y ≥ 0`, both with 18 decimals.
pub fn exp_neg(y: u128) -> u128 {
	if y > Y_MAX {
		return 0;
	}
	let k = y.checked_div(LN2).unwrap_or(0);
	let r = y.saturating_sub(k.saturating_mul(LN2));
	// Σ (-r)^n / n!: alternate adding and subtracting positive terms.
	let mut term = ONE;
	let mut plus = ONE;
	let mut minus = 0u128;
	for n in 1..=TERMS {
		term = term.saturating_mul(r).checked_div(ONE).unwrap_or(0).checked_div(n).unwrap_or(0);
		if term == 0 {
			break;
		}
		if n % 2 == 1 {
			minus = minus.saturating_add(term);
		} else {
			plus = plus.saturating_add(term);
		}
	}
	let e_r = plus.saturating_sub(minus);
	u32::try_from(k).ok().and_then(|k| e_r.checked_shr(k)).unwrap_or(0)
}

/// The logistic `1 / (1 + e^(-x))` with 18 decimals, for `x` with 18 decimals.
pub fn sigmoid(x: i128) -> u128 {
	let e = exp_neg(x.unsigned_abs());
	let denom = ONE.saturating_add(e);
	if x >= 0 {
		ONE.saturating_mul(ONE).checked_div(denom).unwrap_or(0)
	} else {
		e.saturating_mul(ONE).checked_div(denom).unwrap_or(0)
	}
}

/// The score in milli-points (0..=100,000): `round(100,000 · σ(θ · sum))`, with
/// `theta_milli` = θ × 1000.
pub fn score_milli(sum: i64, theta_milli: u32) -> u32 {
	// θ·S with 18 decimals: S · θ_milli · 1e15. |S| < 2^63, θ_milli < 2^32: fits i128.
	let x = i128::from(sum)
		.saturating_mul(i128::from(theta_milli))
		.saturating_mul(1_000_000_000_000_000);
	let s = sigmoid(x);
	let milli = s.saturating_mul(100_000).saturating_add(ONE / 2).checked_div(ONE).unwrap_or(0);
	u32::try_from(milli.min(100_000)).unwrap_or(100_000)
}

/// Integer square root of a `u128` (floor), by Newton's method.
pub fn isqrt(n: u128) -> u128 {
	if n < 2 {
		return n;
	}
	let mut x = n;
	let mut y = x.saturating_add(1) / 2;
	while y < x {
		x = y;
		y = x.saturating_add(n.checked_div(x).unwrap_or(0)) / 2;
	}
	x
}

/// The lower bound of the Wilson score interval (z = 1.96, 95 %) on the share of
/// positive outcomes, in parts per million. 0 with no outcomes.
///
/// `(p + z²/2n − z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)`, computed over integers as
/// `(2pos + z² − z·√(z² + 4·pos·neg/n)) / (2(n + z²))` with z² = 3.8416.
pub fn wilson_lower_ppm(pos: u64, neg: u64) -> u32 {
	let n = u128::from(pos).saturating_add(u128::from(neg));
	if n == 0 {
		return 0;
	}
	// Everything ×1e6 (z = 1.96 → 1_960_000, z² → 3_841_600).
	const S: u128 = 1_000_000;
	let z = 1_960_000u128;
	let z2 = 3_841_600u128;
	let pos = u128::from(pos);
	let neg = u128::from(neg);
	// inner = z² + 4·pos·neg/n, scaled by S²; its root is scaled by S.
	let inner = z2
		.saturating_mul(S)
		.saturating_add(pos.saturating_mul(neg).saturating_mul(4).saturating_mul(S).saturating_mul(S).checked_div(n).unwrap_or(0));
	let root = isqrt(inner);
	// numerator and denominator scaled by S
	let num = pos.saturating_mul(2).saturating_mul(S).saturating_add(z2);
	let sub = z.saturating_mul(root).checked_div(S).unwrap_or(0);
	let num = num.saturating_sub(sub);
	let den = n.saturating_mul(S).saturating_add(z2).saturating_mul(2);
	let ppm = num.saturating_mul(S).checked_div(den).unwrap_or(0);
	u32::try_from(ppm.min(S)).unwrap_or(1_000_000)
}

#[cfg(test)]
mod tests {
	#![allow(clippy::arithmetic_side_effects, clippy::unwrap_used, clippy::indexing_slicing)]
	use super::*;

	fn f64_score(sum: i64, theta_milli: u32) -> f64 {
		100.0 / (1.0 + (-(sum as f64) * f64::from(theta_milli) / 1000.0).exp())
	}

	#[test]
	fn exp_neg_matches_f64() {
		let mut worst = 0f64;
		for i in 0..=64_000u128 {
			let y = i * ONE / 1000;
			let got = exp_neg(y) as f64 / ONE as f64;
			let want = (-(i as f64) / 1000.0).exp();
			worst = worst.max((got - want).abs());
		}
		assert!(worst < 1e-15, "max |error| {worst}");
		assert_eq!(exp_neg(0), ONE);
		assert_eq!(exp_neg(65 * ONE), 0);
	}

	/// The whole input range of the score: every sum the storage can hold maps to
	/// 0..=100 within 0.01 points of f64, for the runtime's θ and others.
	#[test]
	fn score_error_is_below_a_hundredth_of_a_point_over_the_whole_range() {
		let mut worst = 0f64;
		for theta in [50u32, 100, 300, 500, 1000, 2000] {
			let mut sums: Vec<i64> = (-20_000..=20_000).collect();
			sums.extend([i64::MIN / 4, -1_000_000_000, 1_000_000_000, i64::MAX / 4]);
			for s in sums {
				let got = f64::from(score_milli(s, theta)) / 1000.0;
				let err = (got - f64_score(s, theta)).abs();
				worst = worst.max(err);
			}
		}
		assert!(worst <= 0.01, "max error {worst} points");
		assert!(worst <= 0.0006, "max error {worst} points (rounding to milli-points)");
		assert_eq!(score_milli(0, 300), 50_000);
	}

	#[test]
	fn wilson_lower_bound_matches_f64_and_prefers_long_records() {
		for (p, n) in [(1u64, 0u64), (10, 0), (100, 3), (0, 5), (50, 50), (1000, 10)] {
			let tot = (p + n) as f64;
			let ph = p as f64 / tot;
			let z = 1.96f64;
			let want = (ph + z * z / (2.0 * tot) - z * ((ph * (1.0 - ph) + z * z / (4.0 * tot)) / tot).sqrt())
				/ (1.0 + z * z / tot);
			let got = f64::from(wilson_lower_ppm(p, n)) / 1e6;
			assert!((got - want).abs() < 2e-6, "({p},{n}): {got} vs {want}");
		}
		// One lucky +1 does not beat a long clean record.
		assert!(wilson_lower_ppm(1, 0) < wilson_lower_ppm(200, 2));
		assert_eq!(wilson_lower_ppm(0, 0), 0);
	}

	#[test]
	fn isqrt_is_the_floor_root() {
		for n in [0u128, 1, 2, 3, 4, 15, 16, 17, 1 << 80, u128::MAX] {
			let r = isqrt(n);
			assert!(r * r <= n);
			assert!((r + 1).checked_mul(r + 1).is_none_or(|sq| sq > n));
		}
	}
}
