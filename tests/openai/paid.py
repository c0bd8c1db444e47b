"""The official `openai` Python package against an Agora worker, unchanged but
for its base URL and one extra header per request (the voucher that pays for
it). Run by provider-worker/tests/channels.rs with three vouchers made by the
test: chat completion, streamed chat completion, embeddings. Prints JSON."""
import json
import sys

from openai import OpenAI

base_url, v_chat, v_stream, v_embed = sys.argv[1:5]
client = OpenAI(base_url=base_url, api_key="not-used-agora-is-paid-by-voucher")
messages = [{"role": "user", "content": "Name three colours."}]

chat = client.chat.completions.create(
    model="SmolLM2-135M-Instruct", messages=messages, max_tokens=16,
    extra_headers={"x-agora-voucher": v_chat},
)
stream = client.chat.completions.create(
    model="SmolLM2-135M-Instruct", messages=messages, max_tokens=16, stream=True,
    extra_headers={"x-agora-voucher": v_stream},
)
pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
emb = client.embeddings.create(
    model="all-MiniLM-L6-v2", input="The cat sits on the mat.",
    extra_headers={"x-agora-voucher": v_embed},
)
print(json.dumps({
    "text": chat.choices[0].message.content,
    "finish_reason": chat.choices[0].finish_reason,
    "streamed": "".join(pieces),
    "stream_events": len(pieces),
    "dim": len(emb.data[0].embedding),
}))
