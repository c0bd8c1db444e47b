//! Which offer endpoints validators' off-chain workers may be sent to.
//!
//! Committees fetch outputs from the endpoint an offer names, from inside the
//! validators' own networks. An endpoint naming a private address would turn every
//! committee into a request forger against its members' internal services (SSRF),
//! so on public networks (`local`, `testnet`) an offer must name a public host;
//! a `dev` chain may name loopback. The rule is checked by `pallet-models` when an
//! offer is opened or updated (`agora-worker` reports the refusal as
//! `models.PrivateEndpoint`).
//!
//! What can be checked on-chain is the text of the URL: literal addresses are
//! classified exactly (IPv4, IPv6, IPv4-mapped and NAT64 forms), and names that
//! only resolve inside a site (`localhost`, `*.local`, `*.internal`, `*.lan`,
//! `*.home.arpa`, names without a dot) are refused. A public name whose DNS
//! record points at a private address cannot be seen from the chain: the
//! committee member's fetch checks every address a name resolves to with
//! [`public_ip`] and connects only to those (DNS rebinding; the verifier's
//! `POST /v1/fetch`, docs/protocol.md §6).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `a` is a public address: not loopback, private, link-local, shared,
/// multicast, reserved or documentation (IPv4-mapped and NAT64 IPv6 forms are
/// judged by the IPv4 address they reach). The rule offers' literal hosts
/// are held to, and the one a committee member's fetch applies to every
/// address a host name resolves to.
pub fn public_ip(a: IpAddr) -> bool {
	match a {
		IpAddr::V4(a) => public_v4(a),
		IpAddr::V6(a) => public_v6(a),
	}
}

/// Why an endpoint is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EndpointError {
	/// Not `http://host[:port][/path]` or `https://…`: no host, user info
	/// (`user@host`), a bad port, characters outside a host name, or a number
	/// that is not a dotted-quad address (`2130706433`, `0x7f.1`).
	Malformed,
	/// The host is loopback, private, link-local, shared, multicast, reserved or
	/// a site-local name, and the chain only takes public endpoints.
	NotPublic,
}

/// Checks an offer's endpoint. With `allow_private` (dev chains), any
/// well-formed host passes.
pub fn check(url: &[u8], allow_private: bool) -> Result<(), EndpointError> {
	let url = core::str::from_utf8(url).map_err(|_| EndpointError::Malformed)?;
	let rest = url
		.strip_prefix("http://")
		.or_else(|| url.strip_prefix("https://"))
		.ok_or(EndpointError::Malformed)?;
	let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
	if authority.contains('@') {
		return Err(EndpointError::Malformed);
	}
	let (host, port) = split_port(authority)?;
	if let Some(port) = port {
		match port.parse::<u16>() {
			Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => {},
			_ => return Err(EndpointError::Malformed),
		}
	}
	let public = match host {
		Host::V4(a) => public_v4(a),
		Host::V6(a) => public_v6(a),
		Host::Name(n) => public_name(n)?,
	};
	if public || allow_private {
		Ok(())
	} else {
		Err(EndpointError::NotPublic)
	}
}

enum Host<'a> {
	V4(Ipv4Addr),
	V6(Ipv6Addr),
	Name(&'a str),
}

fn split_port(authority: &str) -> Result<(Host<'_>, Option<&str>), EndpointError> {
	if let Some(inner) = authority.strip_prefix('[') {
		let (addr, after) = inner.split_once(']').ok_or(EndpointError::Malformed)?;
		let addr = addr.parse::<Ipv6Addr>().map_err(|_| EndpointError::Malformed)?;
		let port = match after {
			"" => None,
			p => Some(p.strip_prefix(':').ok_or(EndpointError::Malformed)?),
		};
		return Ok((Host::V6(addr), port));
	}
	let (host, port) = match authority.split_once(':') {
		Some((h, p)) => (h, Some(p)),
		None => (authority, None),
	};
	if host.is_empty() {
		return Err(EndpointError::Malformed);
	}
	// A last label that starts with a digit is an address, never a name: only a
	// strict dotted quad is accepted (no `127.1`, `2130706433`, `0x7f.0.0.1`).
	let last = host.trim_end_matches('.').rsplit('.').next().unwrap_or("");
	if last.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
		let a = host.parse::<Ipv4Addr>().map_err(|_| EndpointError::Malformed)?;
		return Ok((Host::V4(a), port));
	}
	Ok((Host::Name(host), port))
}

fn public_v4(a: Ipv4Addr) -> bool {
	let [o0, o1, o2, _] = a.octets();
	!(o0 == 0 || // "this network"
		o0 == 10 ||
		o0 == 127 ||
		(o0 == 100 && (64..128).contains(&o1)) || // shared address space (CGNAT)
		(o0 == 169 && o1 == 254) ||
		(o0 == 172 && (16..32).contains(&o1)) ||
		(o0 == 192 && o1 == 0 && o2 == 0) ||
		(o0 == 192 && o1 == 0 && o2 == 2) || // documentation
		(o0 == 192 && o1 == 168) ||
		(o0 == 198 && (o1 == 18 || o1 == 19)) || // benchmarking
		(o0 == 198 && o1 == 51 && o2 == 100) ||
		(o0 == 203 && o1 == 0 && o2 == 113) ||
		o0 >= 224) // multicast, reserved, broadcast
}

fn public_v6(a: Ipv6Addr) -> bool {
	let s = a.segments();
	if let Some(v4) = a.to_ipv4_mapped() {
		return public_v4(v4);
	}
	// NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
	if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
		let [a, b] = s[6].to_be_bytes();
		let [c, d] = s[7].to_be_bytes();
		return public_v4(Ipv4Addr::new(a, b, c, d));
	}
	!(a.is_unspecified() ||
		a.is_loopback() ||
		s[0..6] == [0, 0, 0, 0, 0, 0] || // IPv4-compatible (deprecated)
		(s[0] & 0xfe00) == 0xfc00 || // unique local
		(s[0] & 0xffc0) == 0xfe80 || // link-local
		(s[0] & 0xffc0) == 0xfec0 || // site-local (deprecated)
		(s[0] & 0xff00) == 0xff00 || // multicast
		(s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
}

fn public_name(name: &str) -> Result<bool, EndpointError> {
	let name = name.strip_suffix('.').unwrap_or(name);
	let ok = !name.is_empty() &&
		name.split('.').all(|l| {
			!l.is_empty() &&
				l.len() <= 63 && !l.starts_with('-') &&
				!l.ends_with('-') &&
				l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
		});
	if !ok {
		return Err(EndpointError::Malformed);
	}
	let lower = |s: &str, suffix: &str| {
		s.len()
			.checked_sub(suffix.len())
			.and_then(|at| s.get(at..))
			.is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
	};
	let site_local = !name.contains('.') ||
		["localhost", ".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp"]
			.iter()
			.any(|s| lower(name, s));
	Ok(!site_local)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn public(u: &str) -> Result<(), EndpointError> {
		check(u.as_bytes(), false)
	}

	#[test]
	fn public_hosts_pass() {
		for u in [
			"https://provider.example.com",
			"http://provider.example.com:8700/v1",
			"https://8.8.8.8",
			"http://93.184.216.34:80/x?y#z",
			"https://[2606:4700::1111]:443/",
			"https://Node-1.Agora.Network.",
		] {
			assert_eq!(public(u), Ok(()), "{u}");
		}
	}

	#[test]
	fn private_hosts_are_refused_on_public_chains_and_pass_on_dev() {
		for u in [
			"http://127.0.0.1:8700",
			"http://10.1.2.3",
			"http://172.16.0.1",
			"http://172.31.255.255",
			"http://192.168.1.1",
			"http://169.254.169.254/latest/meta-data", // cloud metadata
			"http://100.64.0.1",
			"http://0.0.0.0",
			"http://224.0.0.1",
			"http://255.255.255.255",
			"http://[::1]:8700",
			"http://[::]",
			"http://[fd00::1]",
			"http://[fe80::1]",
			"http://[::ffff:127.0.0.1]",
			"http://[::ffff:10.0.0.1]",
			"http://[64:ff9b::a00:1]",
			"http://localhost:8700",
			"http://LOCALHOST",
			"http://api.localhost",
			"http://printer.local",
			"http://db.internal",
			"http://router.home.arpa",
			"http://intranet",
		] {
			assert_eq!(public(u), Err(EndpointError::NotPublic), "{u}");
			assert_eq!(check(u.as_bytes(), true), Ok(()), "{u} on dev");
		}
	}

	#[test]
	fn malformed_endpoints_are_refused_everywhere() {
		for u in [
			"ftp://example.com",
			"http://",
			"https://:80",
			"http://user@example.com",
			"http://example.com@127.0.0.1",
			"http://example.com:0",
			"http://example.com:65536",
			"http://example.com:+80",
			"http://example.com:8a",
			"http://2130706433",
			"http://127.1",
			"http://0x7f.0.0.1",
			"http://127.0.0.01",
			"http://exa mple.com",
			"http://exa_mple.com",
			"http://-bad.com",
			"http://a..com",
			"http://[::1",
			"http://[::1]x",
			"http://[zz::1]",
		] {
			assert_eq!(check(u.as_bytes(), true), Err(EndpointError::Malformed), "{u}");
		}
	}
}
