"""Provider-layer benchmarks: SSE parse throughput, time-to-first-token, CLI startup.

1. Parse throughput (target >= 20,000 events/s). ``tests.fakeserver.FakeServer`` runs in
   a spawned process (no shared GIL) and serves a pre-built chat-completion SSE body of
   ``--events`` one-token chunks in 64 KiB pieces. We count ``TextDelta``s from an
   ``openai`` provider's ``stream()``, and as a baseline content chunks from bare httpx +
   httpx-sse (``aconnect_sse``, ``aiter_sse``, ``json.loads``). Three interleaved runs
   each, timed from the first content event to the last; best and median.
2. Time-to-first-token overhead (target < 5 ms). Against a short stream: a bare
   ``AsyncClient.stream`` POST read up to the first ``data:`` line with content, versus
   ``provider.stream()`` up to the first ``TextDelta``. One client and one provider are
   reused, streams are drained so connections can return to the pool, runs alternate;
   medians, the median paired difference, and the connections each side opened.
3. Startup (target < 250 ms). ``python -m llamachat ask --help`` 15 times after 2
   warm-ups (median, min), next to ``python -c pass`` as the floor.

Run from the repository root; prints a report, then one JSON line::

    .venv/bin/python benchmarks/bench_provider.py [--events N] [--iterations N] [--json-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from httpx_sse import aconnect_sse  # noqa: E402

from llamachat.providers.base import TextDelta  # noqa: E402
from tests.fakeserver import FakeServer, sse_reply, stream_events  # noqa: E402
from tests.helpers import make_provider, request  # noqa: E402

CHAT_PATH = "/v1/chat/completions"
CHAT_BODY = {"model": "test-model", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
WORDS = (" the", " quick", " brown", " fox", " jumps", " over", " a", " lazy", " dog", ".")
TARGETS = {"events_per_s": 20_000.0, "ttft_overhead_ms": 5.0, "startup_ms": 250.0}
WARMUP = 30


class BenchServer(FakeServer):
    """FakeServer with TCP_NODELAY that counts the connections each User-Agent opens.

    FakeServer binds its socket with protocol 0, so asyncio skips its usual TCP_NODELAY
    and a reused connection stalls ~40 ms (Nagle + delayed ACK), which real servers do
    not. Accepted sockets inherit the option from the listening one.
    """

    def __init__(self) -> None:
        super().__init__()
        self.peers: set[tuple[str, Any]] = set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        agent = dict(scope.get("headers", [])).get(b"user-agent", b"?").decode()
        self.peers.add((agent.split("/")[0], scope.get("client")))
        await super().__call__(scope, receive, send)

    def start(self) -> BenchServer:
        super().start()
        assert self._server is not None
        for listener in self._server.servers:
            for sock in listener.sockets:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self


def _serve(events: int, conn: Connection) -> None:
    """Server process: ``events`` content chunks in 64 KiB pieces, or a short stream if 0."""
    if events:
        usage = {"prompt_tokens": 12, "completion_tokens": events, "total_tokens": events + 12}
        pieces = [WORDS[i % len(WORDS)] for i in range(events)]
        reply = sse_reply(stream_events(pieces, usage=usage), split=64 * 1024)
    else:
        reply = sse_reply(stream_events(["Hello", ",", " world", "!"], usage={"prompt_tokens": 5}))
    server = BenchServer()
    server.on("POST", CHAT_PATH, reply)
    conn.send(server.start().port)
    while conn.recv() is not None:  # anything but None asks for the connection counts
        conn.send(dict(Counter(agent for agent, _ in list(server.peers))))
    server.stop()


@contextmanager
def server_process(events: int) -> Iterator[tuple[str, Connection]]:
    """A BenchServer in a spawned process; yields its URL and the control pipe."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(events, child), daemon=True)
    proc.start()
    try:
        if not parent.poll(120):
            raise RuntimeError("fake server process did not start")
        yield f"http://127.0.0.1:{parent.recv()}", parent
    finally:
        parent.send(None)  # the child's end stays open here, so this cannot fail
        proc.join(10)
        if proc.is_alive():
            proc.terminate()


async def provider_throughput(url: str) -> tuple[int, float]:
    """``TextDelta`` count, and seconds from the first to the last."""
    provider = make_provider("openai", f"{url}/v1")
    count, first, last = 0, 0.0, 0.0
    try:
        async for event in provider.stream(request()):
            if type(event) is TextDelta:
                last = time.perf_counter()
                first, count = first or last, count + 1
    finally:
        await provider.aclose()
    return count, last - first


async def baseline_throughput(url: str) -> tuple[int, float]:
    """The same for bare httpx + httpx-sse + json.loads."""
    count, first, last = 0, 0.0, 0.0
    async with (
        httpx.AsyncClient(timeout=30) as client,
        aconnect_sse(client, "POST", url + CHAT_PATH, json=CHAT_BODY) as source,
    ):
        async for sse in source.aiter_sse():
            if sse.data == "[DONE]":
                break
            choices = json.loads(sse.data).get("choices")
            if choices and choices[0].get("delta", {}).get("content"):
                last = time.perf_counter()
                first, count = first or last, count + 1
    return count, last - first


def bench_throughput(events: int, runs: int = 3) -> dict[str, Any]:
    """Interleaved provider and baseline runs against one server; events/s."""
    rates: dict[str, list[float]] = {"provider": [], "baseline": []}
    with server_process(events) as (url, _):
        for _ in range(runs):
            for name, fn in (("provider", provider_throughput), ("baseline", baseline_throughput)):
                count, elapsed = asyncio.run(fn(url))
                if count != events:
                    raise RuntimeError(f"{name}: expected {events} events, got {count}")
                rates[name].append((count - 1) / elapsed)
    return {
        k: {"best": max(r), "median": statistics.median(r), "runs": r} for k, r in rates.items()
    }


async def ttft_runs(url: str, iterations: int) -> tuple[list[float], list[float]]:
    """Alternating bare-httpx and provider first-token latencies (ms), after a warm-up."""
    provider = make_provider("openai", f"{url}/v1")
    req, headers = request(), {"Accept": "text/event-stream"}
    bare: list[float] = []
    prov: list[float] = []

    async def bare_once(client: httpx.AsyncClient) -> float:
        start, first = time.perf_counter(), 0.0
        async with client.stream("POST", url + CHAT_PATH, json=CHAT_BODY, headers=headers) as r:
            async for line in r.aiter_lines():  # drain all: the connection goes back to the pool
                if not first and line.startswith("data:") and '"content"' in line:
                    first = time.perf_counter()
        return (first - start) * 1000

    async def provider_once() -> float:
        start, first = time.perf_counter(), 0.0
        async for event in provider.stream(req):
            if not first and type(event) is TextDelta:
                first = time.perf_counter()
        return (first - start) * 1000

    try:
        async with httpx.AsyncClient(timeout=10) as client:
            for i in range(WARMUP + iterations):
                if i % 2:
                    b, p = await bare_once(client), await provider_once()
                else:
                    p, b = await provider_once(), await bare_once(client)
                bare.append(b)
                prov.append(p)
    finally:
        await provider.aclose()
    return bare[WARMUP:], prov[WARMUP:]


def bench_ttft(iterations: int) -> dict[str, Any]:
    """Time-to-first-token of both clients against a short stream from another process."""
    with server_process(0) as (url, control):
        bare, prov = asyncio.run(ttft_runs(url, iterations))
        control.send("count")
        seen = control.recv()
    med = statistics.median
    return {
        "bare_median_ms": med(bare),
        "provider_median_ms": med(prov),
        "median_paired_diff_ms": med([p - b for p, b in zip(prov, bare, strict=True)]),
        "diff_of_medians_ms": med(prov) - med(bare),
        "connections_opened": {"bare": seen.get("python-httpx", 0), "provider": seen["llamachat"]},
    }


def time_command(argv: list[str], runs: int = 15, warmups: int = 2) -> dict[str, float]:
    """Median and min wall time of a subprocess, in ms."""
    times: list[float] = []
    for i in range(warmups + runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
        if i >= warmups:
            times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": statistics.median(times), "min_ms": min(times)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Provider-layer benchmarks.")
    parser.add_argument("--events", type=int, default=100_000, help="content chunks to parse")
    parser.add_argument("--iterations", type=int, default=300, help="time-to-first-token runs")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        if not args.json_only:
            print(line, flush=True)

    say(f"1. parse throughput, {args.events:,} content events, 3 runs each: best / median")
    tp = bench_throughput(args.events)
    for name, r in tp.items():
        say(f"   {name:<9} {r['best']:>9,.0f} / {r['median']:>9,.0f} events/s")
    say(f"   target: provider >= {TARGETS['events_per_s']:,.0f} events/s")

    say(f"2. time to first token, {args.iterations} runs each after {WARMUP} warm-ups: medians")
    tt = bench_ttft(args.iterations)
    say(f"   bare httpx {tt['bare_median_ms']:.3f} ms, provider {tt['provider_median_ms']:.3f} ms")
    say(f"   provider adds {tt['median_paired_diff_ms']:+.3f} ms (median of paired differences)")
    say(f"   (difference of medians {tt['diff_of_medians_ms']:+.3f} ms); target < 5 ms")
    c, n = tt["connections_opened"], WARMUP + args.iterations
    say(f"   connections opened for {n} requests each: bare {c['bare']}, provider {c['provider']}")

    say("3. startup, 15 runs after 2 warm-ups: median / min")
    st: dict[str, dict[str, float]] = {}
    for key, command in (("ask_help", "-m llamachat ask --help"), ("python_pass", "-c pass")):
        st[key] = r = time_command([sys.executable, *command.split()])
        say(f"   python {command:<24} {r['median_ms']:6.1f} / {r['min_ms']:6.1f} ms")
    say("   target: ask --help < 250 ms")

    met = {
        "throughput": tp["provider"]["median"] >= TARGETS["events_per_s"],
        "ttft_overhead": tt["median_paired_diff_ms"] < TARGETS["ttft_overhead_ms"],
        "startup": st["ask_help"]["median_ms"] < TARGETS["startup_ms"],
    }
    say("targets met: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in met.items()))
    print(json.dumps({"throughput": tp, "ttft": tt, "startup": st, "targets_met": met}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
