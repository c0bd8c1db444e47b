//! The `agora` binary as a user runs it, without a chain: its command groups,
//! and specific errors for bad arguments and an unreachable node. (Building
//! this test also builds the binary the worker's end-to-end tests drive.)
use std::process::Command;

fn agora(args: &[&str]) -> (bool, String) {
	let out = Command::new(env!("CARGO_BIN_EXE_agora")).args(args).output().expect("agora runs");
	let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
	(out.status.success(), text)
}

#[test]
fn help_lists_every_command_group() {
	let (ok, text) = agora(&["--help"]);
	assert!(ok, "{text}");
	for group in ["model", "job", "provider", "quote", "gov", "stake", "channel", "try-state", "balance"] {
		assert!(text.contains(group), "`agora --help` does not mention `{group}`:\n{text}");
	}
	let (ok, text) = agora(&["job", "--help"]);
	assert!(ok, "{text}");
	for cmd in ["submit", "status", "output", "rate", "cancel", "dispute"] {
		assert!(text.contains(cmd), "`agora job --help` does not mention `{cmd}`:\n{text}");
	}
}

#[test]
fn bad_arguments_are_refused_before_any_connection() {
	let (ok, text) = agora(&["job", "submit", "--model", "x"]);
	assert!(!ok);
	assert!(text.contains("--max-price"), "the missing argument is named:\n{text}");
	let (ok, text) = agora(&["job", "rate", "not-a-number", "1"]);
	assert!(!ok);
	assert!(text.contains("invalid value"), "{text}");
}

#[test]
fn an_unreachable_node_is_a_one_line_error() {
	let (ok, text) = agora(&["--url", "ws://127.0.0.1:1", "model", "list"]);
	assert!(!ok);
	assert!(text.starts_with("Error: "), "{text}");
	assert!(text.contains("127.0.0.1:1"), "the error names the node:\n{text}");
}
