"""Big things in the TUI: a 10 MB reply, a 100 MB reply, a conversation of 1,000,000 messages.

Each case is a store made directly with SQL (``executemany``; the schema's triggers keep
the search index as the app would), opened by a child process that runs the real app
headless (``app.run_async(headless=True)``, 120x40, on a fresh config and data dir):

(a) ``10mb``: one conversation, a prompt and a 10 MB Markdown reply (headings, paragraphs,
    lists, and a code block of a quarter of the reply). Time from the child's first line
    to the reply's last line being in the screen's rendered strips (the app opens the
    conversation at its end), the longest event-loop stall a 10 ms ticker saw (the ticker
    runs from before the app is created), peak RSS (VmHWM).
(b) ``100mb``: the same with a 100 MB reply; and a second run in which Ctrl+Q is sent
    0.5 s after the app starts running, from another thread as a terminal's input thread
    does: the time from the key to the app having exited.
(c) ``1m``: one conversation of 1,000,000 messages (one branch): time to its last
    message on screen, message views mounted, peak RSS.

A child that does not finish within ``--timeout`` seconds is killed and reported as such.

Run from the repository root; prints a report, then one JSON line::

    .venv/bin/python benchmarks/bench_big.py [--cases 10mb,100mb,1m] [--keep DIR]

``--keep DIR`` builds the stores once in DIR and reuses them (building 1M messages takes
a while).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_tui import CODE, use_dirs, words  # noqa: E402
from llamachat.store.db import Store  # noqa: E402

MB = 1 << 20


def big_reply(size: int) -> tuple[str, str]:
    """About ``size`` characters of Markdown, and its last line."""
    rng = random.Random(size)
    code_lines = [
        "".join(part.format(i=k, j=k) for part in line).rstrip("\n")
        for k, line in enumerate(CODE * 8)
    ]
    prose = ["".join(words(rng, 70)).strip() for _ in range(97)]
    points = ["".join(words(rng, 8)) for _ in range(31)]
    parts: list[str] = []
    total, section, code_done = 0, 0, False
    while total < size:
        section += 1
        chunk = [f"## Section {section}", ""]
        for k in range(3):
            chunk += [prose[(section * 3 + k) % len(prose)], ""]
        chunk += [f"- item {section}.{j}:{points[(section + j) % 31]}" for j in range(4)] + [""]
        if not code_done and total > size // 3:
            chunk += ["```python"]
            lines: list[str] = []
            code_size = 0
            while code_size < size // 4:
                line = code_lines[len(lines) % len(code_lines)]
                lines.append(line)
                code_size += len(line) + 1
            chunk += [*lines, "```", ""]
            code_done = True
        text = "\n".join(chunk) + "\n"
        parts.append(text)
        total += len(text)
    last = f"End of the big reply ({size // MB} MB)."
    parts.append(last)
    return "".join(parts), last


def _connect(tmp: str) -> tuple[sqlite3.Connection, int]:
    use_dirs(tmp, "http://127.0.0.1:9")
    with Store.open_default() as store:
        conversation_id = store.create_conversation(provider="fake", title="big").id
        path = store.path
    db = sqlite3.connect(path, isolation_level=None)
    return db, conversation_id


def _insert(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO messages (id, conversation_id, parent_id, role, content, provider, model, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.execute("UPDATE id_high_water SET last = (SELECT MAX(id) FROM messages)")
    db.execute("COMMIT")


def build_big_reply(tmp: str, size: int) -> str:
    """A store in ``tmp`` whose one conversation ends with a ``size``-character reply."""
    text, last = big_reply(size)
    db, conversation_id = _connect(tmp)
    now = time.time()
    _insert(
        db,
        [
            (1, conversation_id, None, "user", "Write me something long.", None, None, now),
            (2, conversation_id, 1, "assistant", text, "fake", "fake-model", now + 1),
        ],
    )
    db.execute("UPDATE conversations SET active_leaf_id = 2, updated_at = ?", (now + 1,))
    db.close()
    return last


def build_million(tmp: str, count: int = 1_000_000) -> str:
    """A store in ``tmp`` with one conversation of ``count`` messages in one branch."""
    db, conversation_id = _connect(tmp)
    start = time.time() - count
    batch: list[tuple[Any, ...]] = []
    for i in range(1, count + 1):
        user = i % 2 == 1
        content = f"Question {i}: how does this work?" if user else f"Answer {i}: like this."
        provider = None if user else "fake"
        batch.append((i, conversation_id, i - 1 or None, "user" if user else "assistant",
                      content, provider, provider and "fake-model", start + i))  # fmt: skip
        if len(batch) == 50_000:
            _insert(db, batch)
            batch = []
    if batch:
        _insert(db, batch)
    db.execute("UPDATE conversations SET active_leaf_id = ?, updated_at = ?", (count, time.time()))
    db.close()
    return f"Answer {count}: like this." if count % 2 == 0 else f"Question {count}:"


CHILD = r"""
import time
T0 = time.perf_counter()
import asyncio, json, os, threading
from textual import events
from llamachat.config import load_config
from llamachat.store.db import Store
from llamachat.tui.app import LlamaChatApp
from llamachat.tui.conversation.message import MessageView
LAST, MODE = os.environ["BENCH_LAST_LINE"], os.environ["BENCH_MODE"]
out, stalls = {}, []

def peak():
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {k: int(status[v].split()[0]) / 1024 for k, v in (("rss_mb", "VmRSS"), ("peak_mb", "VmHWM"))}

async def ticker():
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(0.01)
        stalls.append(loop.time() - start - 0.01)

async def auto(pilot):
    app = pilot.app
    while True:
        if app._exit:
            return  # quit mode: Ctrl+Q ended the app (run_async waits for this task)
        strips = app.screen._compositor.render_strips()
        if any(LAST in strip.text for strip in strips):
            break
        await asyncio.sleep(0.005)
    out["paint_ms"] = (time.perf_counter() - T0) * 1000
    out["views"] = len(app.query(MessageView))
    if MODE == "paint":
        app.exit()

async def main():
    loop = asyncio.get_running_loop()
    tick = asyncio.create_task(ticker())
    app = LlamaChatApp(config=load_config(), store=Store.open_default(), discover_local=False)
    if MODE == "quit":
        def press():
            while not app.is_running:
                time.sleep(0.001)
            time.sleep(0.5)  # while the conversation is being opened
            out["key_at"] = time.perf_counter()
            key = events.Key("ctrl+q", "\x11")
            loop.call_soon_threadsafe(app.post_message, key)
        threading.Thread(target=press, daemon=True).start()
    await app.run_async(headless=True, size=(120, 40), auto_pilot=auto)
    if MODE == "quit":
        out["quit_ms"] = (time.perf_counter() - out.pop("key_at")) * 1000
    tick.cancel()
    out["max_stall_ms"] = max(stalls, default=0.0) * 1000
    out.update(peak())

asyncio.run(main())
print("BENCH " + json.dumps(out))
"""


def run_child(tmp: str, last: str, mode: str, timeout: float) -> dict[str, Any]:
    """The app on the store in ``tmp``: ``paint`` until ``last`` shows, or ``quit`` (Ctrl+Q 0.5 s in)."""
    env = dict(os.environ, LLAMACHAT_CONFIG=f"{tmp}/config/config.toml", BENCH_LAST_LINE=last)
    env |= {"LLAMACHAT_DATA_DIR": f"{tmp}/data", "BENCH_MODE": mode}
    argv = [sys.executable, "-c", CHILD]
    try:
        proc = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"did_not_finish_s": timeout}
    if "BENCH " not in proc.stdout:
        return {"failed": proc.stderr[-2000:]}
    result: dict[str, Any] = json.loads(proc.stdout.split("BENCH ")[-1])
    return result


def prepared(keep: str | None, name: str, build: Any) -> tuple[str, str]:
    """A directory holding the store for ``name`` (built if needed) and its last line."""
    base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="bench_big_"))
    tmp = base / name
    marker = tmp / "last-line.txt"
    if not marker.exists():
        tmp.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        last = build(str(tmp))
        marker.write_text(last)
        print(f"   (built {name} in {time.perf_counter() - started:.1f} s)", flush=True)
    return str(tmp), marker.read_text()


def describe(result: dict[str, Any]) -> str:
    if "did_not_finish_s" in result:
        return f"did not finish in {result['did_not_finish_s']:.0f} s (killed)"
    if "failed" in result:
        failure: str = result["failed"]
        return "failed: " + failure.strip().splitlines()[-1]
    parts = []
    if "paint_ms" in result:
        parts.append(f"on screen {result['paint_ms']:,.0f} ms after start")
    if "quit_ms" in result:
        parts.append(f"Ctrl+Q at 0.5 s -> exited {result['quit_ms']:,.0f} ms later")
    parts.append(f"longest loop stall {result['max_stall_ms']:,.0f} ms")
    parts.append(f"peak RSS {result['peak_mb']:,.0f} MB")
    if "views" in result:
        parts.append(f"{result['views']} message views")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Big replies and conversations in the TUI.")
    parser.add_argument("--cases", default="10mb,100mb,1m")
    parser.add_argument("--keep", help="build the stores in this directory once and reuse them")
    parser.add_argument("--timeout", type=float, default=120.0, help="per child, seconds")
    args = parser.parse_args(argv)
    cases = args.cases.split(",")
    summary: dict[str, Any] = {}
    if "10mb" in cases:
        tmp, last = prepared(args.keep, "reply-10mb", lambda t: build_big_reply(t, 10 * MB))
        summary["10mb"] = r = run_child(tmp, last, "paint", args.timeout)
        print(f"(a) 10 MB reply: {describe(r)}", flush=True)
    if "100mb" in cases:
        tmp, last = prepared(args.keep, "reply-100mb", lambda t: build_big_reply(t, 100 * MB))
        summary["100mb"] = r = run_child(tmp, last, "paint", args.timeout)
        print(f"(b) 100 MB reply: {describe(r)}", flush=True)
        summary["100mb_quit"] = r = run_child(tmp, last, "quit", args.timeout)
        print(f"    100 MB reply, Ctrl+Q: {describe(r)}", flush=True)
    if "1m" in cases:
        tmp, last = prepared(args.keep, "million", build_million)
        summary["1m"] = r = run_child(tmp, last, "paint", args.timeout)
        print(f"(c) 1,000,000 messages: {describe(r)}", flush=True)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
