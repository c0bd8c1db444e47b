//! Test-only cheats (`test-cheat` builds): what a lying worker serves.
use crate::store::OutputKind;

/// How a cheating worker lies (`test-cheat` builds only; never in a release):
/// it signs a valid receipt over an output it did not honestly compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Cheat {
	/// Keep the first half of the generated tokens and text (and bill half).
	Truncate,
	/// Replace the text with a nonsense answer; negate an embedding.
	Wrong,
	/// Serve the honest output but bill `max_tokens` for it (a generation that
	/// stopped early).
	Overbill,
	/// Take a by-hash job's uploaded input (and sign for it), then report it
	/// missing all the same: a provider lying out of spite. Changes no output.
	InputMissing,
}

impl Cheat {
	/// Whether the cheat is on the served output (not on the input).
	pub(crate) fn on_output(self) -> bool {
		self != Cheat::InputMissing
	}

	pub(crate) fn apply(self, output: Vec<u8>, tokens: u32, kind: OutputKind, max_tokens: u32) -> (Vec<u8>, u32) {
		use agora_primitives::jobs::GenerationOutput;
		let gen = GenerationOutput::from_bytes(&output);
		match (self, kind, gen) {
			(_, OutputKind::Error, _) | (Cheat::InputMissing, _, _) => (output, tokens),
			(Cheat::Truncate, OutputKind::Text, Some(g)) => {
				let half: String = g.text.chars().take(g.text.chars().count() / 2).collect();
				let ids = g.tokens[..g.tokens.len() / 2].to_vec();
				let n = ids.len() as u32;
				(GenerationOutput { text: half, tokens: ids }.to_bytes(), n)
			},
			(Cheat::Wrong, OutputKind::Text, Some(g)) => (
				GenerationOutput { text: "Purple elephants compute seventeen bananas.".into(), tokens: g.tokens }
					.to_bytes(),
				tokens,
			),
			(Cheat::Overbill, OutputKind::Text, _) => (output, max_tokens),
			(Cheat::Overbill, OutputKind::Embedding, _) => (output, tokens),
			(_, OutputKind::Embedding, _) => {
				let neg: Vec<u8> = output
					.chunks_exact(4)
					.flat_map(|c| (-f32::from_le_bytes([c[0], c[1], c[2], c[3]])).to_le_bytes())
					.collect();
				(neg, tokens)
			},
			(_, OutputKind::Text, None) => (output, tokens),
		}
	}
}

