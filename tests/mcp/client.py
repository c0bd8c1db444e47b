"""The MCP test: the official `mcp` Python SDK launches `agora mcp` over
stdio, as an MCP host (an assistant or an IDE agent) would, against a dev
chain with a worker serving the real models, and uses every tool and error
path; a batch of jobs in one call; then two hosts share one `agora mcp --http`
server (Streamable HTTP). Run by provider-worker/tests/e2e.rs (scripts/setup.sh installs the SDK):

    python client.py AGORA_BIN WS_URL
    python client.py AGORA_BIN WS_URL contest PROVIDER   (a lying worker's false report)

It asserts as it goes and prints one JSON object of what it saw on stdout.
"""

import asyncio
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from mcp import Client, MCPError, StdioServerParameters

GEN = "SmolLM2-135M-Instruct"
EMB = "all-MiniLM-L6-v2"
TOOLS = {
    "list_models", "list_providers", "quote", "submit_job", "submit_jobs", "job_status", "get_output", "rate", "dispute", "account",
    "channel_open", "channel_status", "channel_request", "channel_dispute", "channel_reclaim",
}


def text(r):
    return " ".join(c.text for c in r.content if getattr(c, "text", None))


async def ok(c, tool, args=None):
    r = await c.call_tool(tool, args or {})
    assert not r.is_error, f"{tool}({args}) failed: {text(r)}"
    return r.structured_content


async def refused(c, tool, args, words):
    r = await c.call_tool(tool, args)
    assert r.is_error, f"{tool}({args}) should have failed: {r.structured_content}"
    msg = text(r)
    assert words in msg, f"{tool}({args}): expected '{words}' in: {msg}"
    return msg


def planck(s):
    return int(s.split()[0])


async def main(agora, url):
    seen = {}
    # 0.12 AGR: two jobs at 0.05 fit, a third does not.
    server = StdioServerParameters(
        command=agora,
        args=["--url", url, "mcp", "--suri", "//Dave", "--max-spend", "0.12", "--wait-secs", "150"],
    )
    async with Client(server, read_timeout_seconds=300) as c:
        tools = (await c.list_tools()).tools
        names = {t.name for t in tools}
        assert names == TOOLS, names
        for t in tools:
            assert t.description and len(t.description) > 40, t.name
            assert t.input_schema["type"] == "object", t.name
        seen["tools"] = sorted(names)

        models = (await ok(c, "list_models"))["items"]
        assert {m["name"] for m in models} >= {GEN, EMB}, models
        providers = (await ok(c, "list_providers", {"model": GEN}))["items"]
        assert providers and providers[0]["active"], providers
        seen["provider"] = providers[0]["provider"]
        q = await ok(c, "quote", {"model": GEN, "max_tokens": 16})
        assert int(q["cheapest"]["price"]) > 0, q
        acct = await ok(c, "account")
        assert planck(acct["committed"]) == 0 and planck(acct["free"]) > 0, acct
        free0 = planck(acct["free"])

        # A generation, waited for: the output's hash is checked against the receipt.
        t0 = time.time()
        g = await ok(c, "submit_job", {"model": GEN, "input": "Name three colours.", "max_tokens": 16, "max_price": "0.05"})
        seen["generation_secs"] = round(time.time() - t0, 1)
        assert g["status"] == "Receipted", g
        r = g["result"]
        assert r["verified"] is True and r["kind"] == "text" and r["billing_matches"] is True, r
        assert r["output"] and 0 < r["output_tokens"] <= 16 and len(r["token_ids"]) == r["output_tokens"], r
        seen["generation"] = r["output"]
        gen_id = g["job_id"]

        # An embedding, not waited for: polled with job_status, read with get_output.
        e = await ok(c, "submit_job", {"model": EMB, "input": "The cat sits on the mat.", "max_price": "0.05", "wait": False})
        assert e["status"] == "Assigned", e
        for _ in range(60):
            s = await ok(c, "job_status", {"job_id": e["job_id"]})
            if "receipt" in s:
                break
            await asyncio.sleep(1)
        assert "receipt" in s, s
        out = await ok(c, "get_output", {"job_id": e["job_id"]})
        assert out["kind"] == "embedding" and len(out["embedding"]) == 384, out
        assert out["output_hash"] == s["receipt"]["output_hash"], (out, s)
        seen["embedding_dims"] = len(out["embedding"])

        # The generation read again: the same bytes as the receipt.
        again = await ok(c, "get_output", {"job_id": gen_id})
        assert again["output_hash"] == r["output_hash"] and again["output"] == r["output"], again

        # Error paths: each a tool error in words, nothing signed, nothing spent.
        committed = planck((await ok(c, "account"))["committed"])
        assert committed == 2 * 50_000_000_000, committed
        seen["errors"] = {
            "unknown_model": await refused(c, "submit_job", {"model": "gpt-5", "input": "hi"}, "no model `gpt-5`"),
            "spend_limit": await refused(
                c, "submit_job", {"model": GEN, "input": "hi", "max_price": "0.05"}, "spend limit"
            ),
            "empty_input": await refused(c, "submit_job", {"model": GEN, "input": ""}, "input is empty"),
            "temperature": await refused(
                c, "submit_job", {"model": GEN, "input": "hi", "max_price": "0.001", "temperature": 5}, "temperature"
            ),
            "bad_price": await refused(c, "submit_job", {"model": GEN, "input": "hi", "max_price": "lots"}, "not an amount"),
            "unknown_job": await refused(c, "job_status", {"job_id": 987654}, "not on chain"),
            # Refused by the chain itself: Dave locked no pass.
            "no_pass": await refused(c, "submit_job", {"model": EMB, "input": "hi", "pay_with_pass": True}, "NoPass"),
            "bad_rating": await refused(c, "rate", {"job_id": gen_id, "rating": 3}, "-1, 0 or 1"),
            "dispute_over_limit": await refused(c, "dispute", {"job_id": gen_id}, "spend limit"),
        }
        a2 = await ok(c, "account")
        assert planck(a2["committed"]) == committed, a2
        # Arguments that do not fit the schema (a string for a number) never
        # reach the tool: an input-validation error the model can correct
        # (MCP 2025-11-25 on returns it as a tool error; older servers as a
        # protocol error; either is accepted).
        try:
            r = await c.call_tool("job_status", {"job_id": "seven"})
            assert r.is_error, f"a string job_id was accepted: {r.structured_content}"
            seen["errors"]["malformed"] = text(r)
        except MCPError as err:
            seen["errors"]["malformed"] = str(err)
        assert "job_id" in seen["errors"]["malformed"] or "invalid" in seen["errors"]["malformed"].lower(), seen

        # Rate once the generation is finalized (the dev chain's dispute window).
        for _ in range(120):
            s = await ok(c, "job_status", {"job_id": gen_id})
            if s["status"] == "Finalized":
                break
            await asyncio.sleep(1)
        assert s["status"] == "Finalized", s
        await ok(c, "rate", {"job_id": gen_id, "rating": 1})
        s = await ok(c, "job_status", {"job_id": gen_id})
        assert s["rating"] == 1, s
        a3 = await ok(c, "account")
        seen["spent_planck"] = free0 - planck(a3["free"])
        seen["generation_charge"] = s["charge"]
        assert 0 < seen["spent_planck"] < committed, (free0, a3)

    seen["batch"] = await batch(agora, url)
    seen["http"] = await over_http(agora, url)
    seen["channels"] = await channels(agora, url)
    print(json.dumps(seen))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def over_http(agora, url):
    """`agora mcp --http`: two hosts connect over Streamable HTTP at once and
    share one spend limit (0.08 AGR: one 0.05 job fits, a second does not,
    whichever connection asks); a non-loopback address is refused at start."""
    bad = subprocess.run(
        [agora, "--url", url, "mcp", "--suri", "//Eve", "--max-spend", "1", "--http", "0.0.0.0:1"],
        capture_output=True, text=True, timeout=60,
    )
    assert bad.returncode != 0 and "only a loopback address" in bad.stderr, bad.stderr
    port = free_port()
    proc = subprocess.Popen(
        [agora, "--url", url, "mcp", "--suri", "//Eve", "--max-spend", "0.08", "--http", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                await asyncio.sleep(0.2)
        endpoint = f"http://127.0.0.1:{port}/mcp"
        async with Client(endpoint) as a, Client(endpoint) as b:
            names = {t.name for t in (await a.list_tools()).tools}
            assert names == TOOLS, names
            job = await ok(a, "submit_job", {"model": EMB, "input": "Shared limits.", "max_price": "0.05", "wait": False})
            assert job["status"] == "Assigned", job
            msg = await refused(b, "submit_job", {"model": EMB, "input": "hi", "max_price": "0.05"}, "spend limit")
            acct = await ok(b, "account")
            assert planck(acct["committed"]) == 50_000_000_000, acct
            return {"tools": len(names), "job_id": job["job_id"], "second_host_refused": msg}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def batch(agora, url):
    """`submit_jobs`: three inputs in one call as //Ferdie (0.1 AGR limit, 0.02
    AGR each): the one over the chain's inline limit is refused by the chain
    with its reason and its share given back, the other two are ordered in one
    transaction (consecutive ids), receipted and verified in input order; a
    batch over what is left of the limit is refused before anything is signed."""
    server = StdioServerParameters(
        command=agora, args=["--url", url, "mcp", "--suri", "//Ferdie", "--max-spend", "0.1", "--wait-secs", "150"],
    )
    async with Client(server, read_timeout_seconds=300) as c:
        inputs = ["A red apple.", "x" * 20_000, "A blue sky."]
        t0 = time.time()
        b = await ok(c, "submit_jobs", {"model": EMB, "inputs": inputs, "max_price": "0.02", "max_tokens": 1})
        secs = round(time.time() - t0, 1)
        assert b["ordered"] == 2 and b["refused"] == 1, b
        jobs = b["jobs"]
        assert [j["input"] for j in jobs] == [0, 1, 2], jobs
        assert jobs[1]["status"] == "Refused" and "InputTooLong" in jobs[1]["error"], jobs[1]
        for j in (jobs[0], jobs[2]):
            assert j["status"] == "Receipted", j
            assert j["result"]["verified"] is True and len(j["result"]["embedding"]) == 384, j
        assert jobs[2]["job_id"] == jobs[0]["job_id"] + 1, "one transaction takes consecutive ids"
        assert planck(b["session_committed"]) == 2 * 20_000_000_000, b
        over = await refused(
            c, "submit_jobs", {"model": EMB, "inputs": ["a", "b", "c", "d"], "max_price": "0.02"}, "spend limit"
        )
        empty = await refused(c, "submit_jobs", {"model": EMB, "inputs": ["a", ""]}, "input 1 is empty")
        acct = await ok(c, "account")
        assert planck(acct["committed"]) == 2 * 20_000_000_000, acct
        return {"secs": secs, "job_ids": [jobs[0]["job_id"], jobs[2]["job_id"]], "over_limit": over, "empty": empty}


async def channels(agora, url):
    """The channel tools: //Two opens a channel to Bob (counted against its
    spend limit), pays an embedding and a generation with vouchers, each
    answer's served receipt checked; a restarted server goes on from the
    durable lane state (the worker would refuse a reused nonce); a second
    server on the same state is refused; errors in words."""
    state = tempfile.mkdtemp(prefix="agora-mcp-state-")
    env = dict(os.environ, AGORA_STATE=state)
    server = StdioServerParameters(
        command=agora, args=["--url", url, "mcp", "--suri", "//Two", "--max-spend", "2"], env=env,
    )
    seen = {}
    async with Client(server, read_timeout_seconds=300) as c:
        bob = (await ok(c, "list_providers", {"model": EMB}))["items"][0]
        opened = await ok(c, "channel_open", {"provider": bob["provider"], "value": "1", "blocks": 400})
        cid = opened["channel_id"]
        assert planck(opened["session_committed"]) == 10**12, opened
        t0 = time.time()
        e = await ok(c, "channel_request", {"channel_id": cid, "model": EMB, "input": "The cat sits on the mat."})
        seen["embedding_secs"] = round(time.time() - t0, 2)
        assert len(e["output"]["embedding"]) == 384 and e["receipt"]["verified"] is True, e
        assert e["voucher"] == {"lane": 0, "nonce": 1, "total": e["price"]}, e
        g = await ok(c, "channel_request", {"channel_id": cid, "model": GEN, "input": "Name three colours.", "max_tokens": 8})
        assert g["output"]["text"] and 0 < g["receipt"]["output_tokens"] <= 8, g
        assert g["voucher"]["nonce"] == 2, g
        assert int(g["voucher"]["total"]) == int(e["price"]) + int(g["price"]), g
        seen["generation"] = g["output"]["text"]
        # A job whose input goes to the provider off-chain: only its hash is on
        # chain; the worker's upload receipt is checked and returned, and the
        # output is verified as for any job.
        text = "Sent by hash, never on chain."
        h = await ok(c, "submit_job", {"model": EMB, "input": text, "max_price": "0.05", "by_hash": True})
        assert h["status"] == "Receipted" and h["result"]["verified"] is True, h
        assert h["input_hash"] == "0x" + hashlib.blake2b(text.encode(), digest_size=32).hexdigest(), h
        assert len(h["upload_receipt"]) == 2 + 128, h
        assert len(h["result"]["embedding"]) == 384, h
        seen["by_hash_job"] = h["job_id"]
        # Every error in words, nothing signed: a channel that is not open, an
        # amount over the limit, a reclaim before the expiration.
        seen["errors"] = {
            "unknown_channel": await refused(c, "channel_request", {"channel_id": 987654, "model": EMB, "input": "x"}, "no open channel"),
            "over_limit": await refused(c, "channel_open", {"provider": bob["provider"], "value": "5"}, "spend limit"),
            "not_expired": await refused(c, "channel_reclaim", {"channel_id": cid}, "NotExpired"),
            "empty_input": await refused(c, "channel_request", {"channel_id": cid, "model": EMB, "input": " "}, "input is empty"),
            # A dispute needs an answer this client kept, and its bond within the limit.
            "dispute_unknown": await refused(c, "channel_dispute", {"channel_id": cid, "nonce": 99}, "no answer kept"),
            "dispute_over_limit": await refused(c, "channel_dispute", {"channel_id": cid, "nonce": 1}, "spend limit"),
        }
        # A second server on the same lane state is refused, not let to reuse nonces.
        async with Client(server, read_timeout_seconds=120) as other:
            seen["errors"]["state_in_use"] = await refused(
                other, "channel_request", {"channel_id": cid, "model": EMB, "input": "x"}, "another agora process"
            )
    # Restarted: the lanes come back from disk; the next voucher is nonce 3.
    async with Client(server, read_timeout_seconds=300) as c:
        e2 = await ok(c, "channel_request", {"channel_id": cid, "model": EMB, "input": "Another sentence."})
        assert e2["voucher"]["nonce"] == 3, e2
        st = await ok(c, "channel_status", {"channel_id": cid})
        signed = int(e["price"]) + int(g["price"]) + int(e2["price"])
        assert planck(st["signed_by_this_client"]) == signed, st
        assert planck(st["left_to_sign"]) == 10**12 - signed, st
        seen["signed_planck"] = signed
    seen["channel_id"] = cid
    return seen


async def contest(agora, url, provider):
    """Against a lying worker (a test build's `--cheat input-missing`): //Charlie
    orders an embedding by hash from `provider` (named with `provider`); the
    worker signs for the upload, then reports the input missing all the same.
    The tool contests the report with that upload receipt at once and says so
    as a tool error: the job ends Fraud. A provider that is not an account, or
    one named beside a pass, is refused before anything is signed."""
    server = StdioServerParameters(
        command=agora, args=["--url", url, "mcp", "--suri", "//Charlie", "--max-spend", "0.1", "--wait-secs", "200"],
    )
    async with Client(server, read_timeout_seconds=300) as c:
        errors = {
            "bad_provider": await refused(
                c, "submit_job", {"model": EMB, "input": "x", "provider": "nobody"}, "is not an SS58 account"
            ),
            "provider_and_pass": await refused(
                c, "submit_job", {"model": EMB, "input": "x", "provider": provider, "pay_with_pass": True}, "not both"
            ),
        }
        assert planck((await ok(c, "account"))["committed"]) == 0
        msg = await refused(
            c, "submit_job",
            {"model": EMB, "input": "Delivered, then denied.", "max_price": "0.05", "by_hash": True, "provider": provider},
            "contested",
        )
        job_id = int(msg.split("job ", 1)[1].split(" ", 1)[0])
        s = await ok(c, "job_status", {"job_id": job_id})
        assert s["status"] == "Fraud", s
        return {"job_id": job_id, "message": msg, "status": s["status"], "errors": errors}


if __name__ == "__main__":
    if sys.argv[3:4] == ["contest"]:
        print(json.dumps(asyncio.run(contest(sys.argv[1], sys.argv[2], sys.argv[4]))))
    else:
        asyncio.run(main(sys.argv[1], sys.argv[2]))
