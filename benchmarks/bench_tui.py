"""TUI benchmarks: streaming a long Markdown reply, cold start, a long conversation, memory.

1. Streaming. A spawned process (no shared GIL) runs ``tests.fakeserver.FakeServer`` with a
   paced chat endpoint: one SSE event per token, 10 events every 4 ms on an absolute schedule
   (2,500 tokens/s). The reply is Markdown (headings, prose, a list, a table) around a fenced
   ``python`` block of 3n/16 lines of 4 tokens (1,500 lines for 8,000 tokens, 375 for 2,000).
   ``LlamaChatApp`` runs headless (``run_test``, 120x40; the compositor renders every frame,
   only terminal output is skipped) on a fresh temp config and data dir whose default
   provider is that server, and ``ChatPane.submit`` sends. 3 interleaved runs per size (with
   ``gc.collect()`` and textual#6665's leaky cache cleared before each), medians of: (a) the
   server's ``time.time()`` just before it writes the last bytes, to the reply being on
   screen (whole text in the view, ``streaming`` False, a forced refresh, the last line in
   the screen's rendered strips); target < 250 ms.
   (b) Process CPU time (all threads, this script's light polling included) from submit to
   on screen, 8,000 vs 2,000 tokens; target ratio <= 5 (4 is linear). Also submit to first
   byte, the server's send time (ideal n / 2,500 s), submit to on screen, and the longest
   event-loop stall a 10 ms ticker saw. For context, Textual's ``Markdown`` with
   ``Markdown.get_stream`` fed the same tokens on the same schedule (500 and 2,000 tokens).
2. Cold start: ``python -c`` a script that runs the app with ``app.run(headless=True,
   auto_pilot=...)``; the pilot waits for the prompt's focus, forces a refresh and takes the
   time since the script's first line and since the parent's ``time.time()`` before Popen.
   Beside it, in the same runs, a minimal Textual app (a Static, a TextArea and a Footer)
   measured the same way; target: llamachat's first paint <= 1.3x the minimal app's.
3. The same with a 2,000-message conversation (built with ``Store.add_message``), until its
   last message is on screen. Targets: empty < 500 ms; the conversation adds < 300 ms.
4. Memory in those children after settling: VmRSS, and VmHWM as the peak (``ru_maxrss``,
   in the JSON only, is carried over from the forking parent by Linux across ``execve``).
   Parts 2-4: a warm-up, then 5 runs each (2 with ``--quick``, N with ``--runs N``),
   the three apps alternating; medians.

Run from the repository root; prints a report, then one JSON line::

    .venv/bin/python benchmarks/bench_tui.py [--quick] [--json-only] [--only cold] [--runs 9]

The cold starts run with bytecode compiled and ``PYTHONDONTWRITEBYTECODE`` unset for both
apps (see ``compile_bytecode``); the output says so.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import gc
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import textual  # noqa: E402
from textual._styles_cache import StylesCache  # noqa: E402
from textual.app import App  # noqa: E402
from textual.containers import VerticalScroll  # noqa: E402
from textual.widgets import Markdown  # noqa: E402

from llamachat.config import load_config  # noqa: E402
from llamachat.config_write import write_config  # noqa: E402
from llamachat.store.db import Store  # noqa: E402
from llamachat.tui.app import LlamaChatApp  # noqa: E402
from llamachat.tui.conversation.message import MessageView  # noqa: E402
from tests.fakeserver import FakeServer, stream_events  # noqa: E402

CHAT_PATH = "/v1/chat/completions"
SIZE = (120, 40)
RATE, PERIOD, STEP = 2500, 0.004, 10  # tokens/s; STEP events every PERIOD seconds
TARGETS = {
    "latency_ms": 250.0,
    "cpu_ratio": 5.0,
    "cold_ms": 500.0,
    "conversation_ms": 300.0,
    "versus_minimal": 1.3,
}
PROSE = "the model streams each token as it arrives so a reader sees progress while long answer"
WORDS = (PROSE + " is still being written and layout stays calm under load with tables").split()
CODE = (  # one function: 7 lines, 28 tokens
    ("def", " step_{i}", "(data:", " list[int],", " k: int = {i})", " -> int:\n"),
    ('    """Weighted', " sum of slice", ' {i}."""', "\n"),
    ("    total = sum(", "x * k", " for x", " in data[{j}:])", "\n"),
    ("    if total", " > {j}:", "  # clamp", "\n"),
    ("        return", " total %", " {i}", "\n"),
    ("    return", " total", "  # done", "\n"),
    ("\n",),
)


def words(rng: random.Random, n: int) -> list[str]:
    return [" " + rng.choice(WORDS) if i % 12 else "." for i in range(1, n + 1)]


def reply_tokens(n: int) -> list[str]:
    """``n`` tokens of Markdown (more if n is tiny) around a 3n/16-line python block."""
    rng = random.Random(n)
    out = ["#", " Streaming", " benchmark", "\n\n", "This", *words(rng, max(10, n // 100)), "\n\n"]
    for j in range(max(2, n // 800)):
        out += ["-", " **item", f" {j}**:", *words(rng, 6), "\n"]
    out += ["\n", "|", " Name", " |", " Size", " |", " Notes", " |\n", "|---", "|---", "|---|\n"]
    for j in range(max(2, n // 400)):
        out += ["|", f" row{j}", " |", f" {j * 7}", " |", *words(rng, 2), " |\n"]
    out += ["\n", "##", " The", " code", "\n\n", "```", "python", "\n"]
    lines = [line for _ in range(n // 28 + 2) for line in CODE][: n * 3 // 16]
    out += [t.format(i=i // 7, j=i) for i, line in enumerate(lines) for t in line]
    out += ["```", "\n\n", "##", " Notes", "\n\n", "Finally"]
    final = ["\n\n", "That", " is", " all", " for", " reply", f" {n}", "."]
    fill = words(rng, max(0, n - len(out) - len(final)))
    return out + [t if i % 60 else "\n\n" for i, t in enumerate(fill, 1)] + final


def _serve(sizes: tuple[int, ...], shared: Any, conn: Any) -> None:
    """Server process: a prompt ``reply <n>`` streams that reply at RATE tokens/s."""
    replies: dict[int, list[bytes]] = {}
    for n in sizes:
        usage = {"prompt_tokens": 12, "completion_tokens": n, "total_tokens": n + 12}
        events = stream_events(reply_tokens(n), usage=usage)
        content = events[1:-3]  # role first; finish, usage and [DONE] last
        batches = ["".join(content[i : i + STEP]) for i in range(0, len(content), STEP)]
        batches[0], batches[-1] = events[0] + batches[0], batches[-1] + "".join(events[-3:])
        replies[n] = [b.encode() for b in batches]

    class Paced(FakeServer):
        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            data, more = b"", True
            while more:
                message = await receive()
                data, more = data + message.get("body", b""), message.get("more_body")
            if scope["path"] != CHAT_PATH:
                await send({"type": "http.response.start", "status": 404, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            batches = replies[int(json.loads(data)["messages"][-1]["content"].split()[-1])]
            headers = [(b"content-type", b"text/event-stream")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            loop = asyncio.get_running_loop()
            t0, shared[0] = loop.time(), time.time()
            for k, chunk in enumerate(batches):
                if (delay := t0 + k * PERIOD - loop.time()) > 0:
                    await asyncio.sleep(delay)
                if k == len(batches) - 1:
                    shared[1] = time.time()  # just before the last bytes go out
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    server = Paced().start()
    conn.send(server.port)
    conn.recv()
    server.stop()


@contextmanager
def server_process(sizes: tuple[int, ...]) -> Iterator[tuple[str, Any]]:
    """The paced server in a spawned process: its URL, and [first, last] send times."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    shared = ctx.Array("d", 2)
    proc = ctx.Process(target=_serve, args=(sizes, shared, child), daemon=True)
    proc.start()
    try:
        if not parent.poll(120):
            raise RuntimeError("fake server process did not start")
        yield f"http://127.0.0.1:{parent.recv()}", shared
    finally:
        parent.send(None)
        proc.join(10)
        if proc.is_alive():
            proc.terminate()


def use_dirs(tmp: str, url: str) -> None:
    """Point llamachat at a config in ``tmp`` whose default provider is ``url``."""
    os.environ |= {"LLAMACHAT_CONFIG": f"{tmp}/config/config.toml", "NO_PROXY": "127.0.0.1"}
    os.environ["LLAMACHAT_DATA_DIR"] = f"{tmp}/data"
    provider: dict[str, Any] = {"kind": "openai", "base_url": f"{url}/v1"}
    provider |= {"models": ["fake-model"], "default_model": "fake-model"}
    network = {"max_retries": 0, "read_timeout": 30}
    write_config({"network": network, "default_provider": "fake", "providers": {"fake": provider}})


async def ticker(stalls: list[float]) -> None:
    """How late each 10 ms sleep wakes: the event loop's stalls."""
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(0.01)
        stalls.append(loop.time() - start - 0.01)


async def stream_once(url: str, shared: Any, n: int, tokens: list[str]) -> dict[str, float]:
    full = "".join(tokens)
    last = full.rstrip().splitlines()[-1]
    with tempfile.TemporaryDirectory() as tmp:
        use_dirs(tmp, url)
        app = LlamaChatApp(config=load_config(), store=Store.open_default(), discover_local=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            pane, stalls = app.active_pane, list[float]()
            assert pane is not None and app.store is not None
            shared[0] = shared[1] = 0.0
            tick = asyncio.create_task(ticker(stalls))
            cpu0, t0 = time.process_time(), time.time()
            pane.submit(f"reply {n}")
            while time.time() < t0 + 120:
                done = shared[1] > 0
                view = list(pane.query(MessageView))[-1:]
                if done and view and view[0].text == full and not view[0].streaming:
                    await pilot.pause(0)  # a forced refresh: layout and compositor
                    strips = app.screen._compositor.render_strips()
                    if any(last in strip.text for strip in strips):
                        break
                await asyncio.sleep(0.001 if done else 0.02)
            else:
                raise RuntimeError(f"reply {n} not on screen in 120 s")
            shown, cpu = time.time(), time.process_time() - cpu0
            tick.cancel()
        app.store.close()
    return {
        "latency_ms": (shown - shared[1]) * 1000,
        "cpu_s": cpu,
        "first_byte_ms": (shared[0] - t0) * 1000,
        "send_s": shared[1] - shared[0],
        "submit_to_screen_s": shown - t0,
        "max_stall_ms": max(stalls, default=0.0) * 1000,
    }


async def textual_markdown_once(tokens: list[str]) -> dict[str, float]:
    """Textual's Markdown + MarkdownStream fed ``tokens`` at RATE tokens/s."""
    app = App[None]()
    async with app.run_test(size=SIZE) as pilot:
        await app.mount(scroll := VerticalScroll(markdown := Markdown()))
        scroll.anchor()
        await pilot.pause()
        stream = Markdown.get_stream(markdown)
        loop = asyncio.get_running_loop()
        cpu0, t0 = time.process_time(), loop.time()
        for k in range(0, len(tokens), STEP):
            if (delay := t0 + k / RATE - loop.time()) > 0:
                await asyncio.sleep(delay)
            for token in tokens[k : k + STEP]:
                await stream.write(token)
        fed = loop.time()
        await stream.stop()
        await pilot.pause(0)
        done = loop.time()
    cpu = time.process_time() - cpu0
    return {"latency_ms": (done - fed) * 1000, "cpu_s": cpu, "total_s": done - t0}


CHILD = r"""
import time
T0 = time.perf_counter()
import gc
gc.disable()  # as llamachat's launcher starts the app (the app collects again once painted)
import asyncio, json, os, resource
from llamachat.config import load_config
from llamachat.store.db import Store
from llamachat.tui.app import LlamaChatApp
from llamachat.tui.conversation.message import MessageView
from llamachat.tui.conversation.prompt import PromptInput
LAST, out = os.environ["BENCH_LAST_LINE"], {"import_ms": (time.perf_counter() - T0) * 1000}
async def auto(pilot):
    app = pilot.app
    while True:
        views = app.query(MessageView)
        if isinstance(app.focused, PromptInput) and (
            not LAST or (views and views.last().text.endswith(LAST))
        ):
            await pilot.pause(0)
            if any(LAST in strip.text for strip in app.screen._compositor.render_strips()):
                break
        await asyncio.sleep(0.001)
    out["paint_ms"], out["paint_wall"] = (time.perf_counter() - T0) * 1000, time.time()
    await pilot.pause()
    await pilot.pause(0.5)
    out["views"] = len(app.query(MessageView))
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    out["rss_mb"], out["peak_mb"] = (int(status[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
    out["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    app.exit()
app = LlamaChatApp(config=load_config(), store=Store.open_default(), discover_local=False)
app.run(headless=True, size=(120, 40), auto_pilot=auto)
print("BENCH " + json.dumps(out))
"""


#: The floor for a first paint: a Textual app of a Static, a TextArea and a Footer, measured
#: the same way (until its TextArea has focus and its screen has been rendered).
MINIMAL_CHILD = r"""
import time
T0 = time.perf_counter()
import asyncio, json, resource
from textual.app import App
from textual.widgets import Footer, Static, TextArea
out = {"import_ms": (time.perf_counter() - T0) * 1000}
class Minimal(App):
    BINDINGS = [("ctrl+q", "quit", "Quit")]
    def compose(self):
        yield Static("New chat")
        yield TextArea(id="prompt")
        yield Footer()
async def auto(pilot):
    app = pilot.app
    while not isinstance(app.focused, TextArea):
        await asyncio.sleep(0.001)
    await pilot.pause(0)
    app.screen._compositor.render_strips()
    out["paint_ms"], out["paint_wall"] = (time.perf_counter() - T0) * 1000, time.time()
    await pilot.pause()
    await pilot.pause(0.5)
    out["views"] = 0
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    out["rss_mb"], out["peak_mb"] = (int(status[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
    out["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    app.exit()
Minimal().run(headless=True, size=(120, 40), auto_pilot=auto)
print("BENCH " + json.dumps(out))
"""


def compile_bytecode() -> str:
    """Compile llamachat's and Textual's sources (and the rest of the interpreter's path) to
    bytecode, so that neither app's cold start pays for compiling its modules; how it was run.

    Children run with ``PYTHONDONTWRITEBYTECODE`` removed from their environment: set, every
    start would compile every source without a ``.pyc`` (a user's installed copy has them),
    which weighs on llamachat's many modules and not on the minimal app's few.
    """
    for folder in (ROOT / "llamachat", Path(textual.__file__).parent):
        compileall.compile_dir(folder, quiet=1)
    return (
        "children run with bytecode compiled for llamachat and Textual (compileall) and "
        "PYTHONDONTWRITEBYTECODE unset, the same for both apps"
    )


def cold_once(tmp: str, last: str, child: str = CHILD) -> dict[str, float]:
    """One child run on the config and data in ``tmp``, until ``last`` is on screen."""
    env = dict(os.environ, LLAMACHAT_CONFIG=f"{tmp}/config/config.toml", BENCH_LAST_LINE=last)
    env["LLAMACHAT_DATA_DIR"] = f"{tmp}/data"
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # see compile_bytecode
    start = time.time()
    argv = [sys.executable, "-c", child]
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(proc.stdout.split("BENCH ")[-1])
    result["wall_ms"] = (result.pop("paint_wall") - start) * 1000
    return result


def message_text(i: int, rng: random.Random) -> str:
    if i % 2 == 0:
        return "".join(words(rng, rng.randint(8, 40))).strip() + f"?\n\n(message {i})"
    parts = ["".join(words(rng, rng.randint(30, 90))).strip(), ""]
    parts += [f"- point {j}:{''.join(words(rng, 8))}" for j in range(rng.randint(0, 4))]
    if i % 8 == 1:
        code = ["".join(line).format(i=k, j=k).rstrip() for k, line in enumerate(CODE * 3)]
        parts += ["", "```python", *code[:15], "```"]
    return "\n".join([*parts, "", f"(message {i})"])


def build_conversation(tmp: str, count: int = 2000) -> str:
    """A conversation of ``count`` messages in a store in ``tmp``; its last line."""
    use_dirs(tmp, "http://127.0.0.1:9")
    rng, store = random.Random(7), Store.open_default()
    conversation_id, parent = store.create_conversation(provider="fake").id, None
    for i in range(count):
        role, model = ("assistant", "fake-model") if i % 2 else ("user", None)
        kw: dict[str, Any] = {"parent_id": parent, "model": model, "provider": model and "fake"}
        parent = store.add_message(conversation_id, role, message_text(i, rng), **kw).id
    store.close()
    return f"(message {count - 1})"


def medians(runs: list[dict[str, float]]) -> dict[str, Any]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]} | {"runs": runs}


def streaming_part(say: Any, stream_runs: int) -> tuple[dict[str, Any], dict[str, bool]]:
    """Part 1: the summary's streaming fields, and which of its targets were met."""
    sizes = (2000, 8000)
    tokens = {n: reply_tokens(n) for n in (500, *sizes)}
    say(f"1. streaming at {RATE:,} tokens/s, {stream_runs} run(s) per size, medians")
    runs: dict[int, list[dict[str, float]]] = {n: [] for n in sizes}
    with server_process(sizes) as (url, shared):
        for _ in range(stream_runs):
            for n in sizes:
                StylesCache.get_inner_outer.cache_clear()  # textual#6665 pins old apps' strips
                gc.collect()
                runs[n].append(asyncio.run(stream_once(url, shared, n, tokens[n])))
    streaming = {str(n): medians(runs[n]) for n in sizes}
    for n in sizes:
        s, chars = streaming[str(n)], len("".join(tokens[n]))
        say(f"   {n:,} tokens ({chars:,} characters, {n * 3 // 16:,}-line code block):")
        say(f"     last byte -> on screen {s['latency_ms']:6.1f} ms (target < 250 ms)")
        say(f"     CPU {s['cpu_s']:.2f} s; submit -> first byte {s['first_byte_ms']:.0f} ms; "
            f"server sent in {s['send_s']:.2f} s (ideal {n / RATE:.1f} s); submit -> on screen "
            f"{s['submit_to_screen_s']:.2f} s; longest loop stall {s['max_stall_ms']:.0f} ms")  # fmt: skip
    ratio = streaming["8000"]["cpu_s"] / streaming["2000"]["cpu_s"]
    say(f"   CPU 8,000 / 2,000 tokens = {ratio:.2f} (target <= 5; 4 is linear)")

    say("   Textual Markdown + MarkdownStream, same tokens and schedule, one run (cap 120 s):")
    textual: dict[str, Any] = {}
    for n in (500, 2000):
        gc.collect()
        try:
            run = asyncio.wait_for(textual_markdown_once(tokens[n]), 120)
            r = textual[str(n)] = asyncio.run(run)
            say(f"     {n:,} tokens: on screen {r['total_s']:.2f} s after the first token (ideal "
                f"{n / RATE:.1f} s), {r['latency_ms']:,.0f} ms after the feeder's last; CPU "
                f"{r['cpu_s']:.2f} s")  # fmt: skip
        except TimeoutError:
            textual[str(n)] = {"did_not_finish": True}
            say(f"     {n:,} tokens: did not finish in 120 s")
    met = {
        "latency": streaming["8000"]["latency_ms"] < TARGETS["latency_ms"],
        "cpu_ratio": ratio <= TARGETS["cpu_ratio"],
    }
    return {"streaming": streaming, "cpu_ratio": ratio, "textual_markdown": textual}, met


def cold_part(say: Any, cold_runs: int) -> tuple[dict[str, Any], dict[str, bool]]:
    """Parts 2-4: the summary's cold-start fields, and which of their targets were met."""
    how = compile_bytecode()
    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as big:
        use_dirs(empty, "http://127.0.0.1:9")
        last = build_conversation(big)
        say(f"2-4. cold start, 1 warm-up + {cold_runs} alternating runs each, medians ({how})")
        cold: dict[str, list[dict[str, float]]] = {"minimal": [], "empty": [], "conversation": []}
        for i in range(cold_runs + 1):
            for key, tmp, line in (
                ("minimal", empty, ""),
                ("empty", empty, ""),
                ("conversation", big, last),
            ):
                result = cold_once(tmp, line, MINIMAL_CHILD if key == "minimal" else CHILD)
                if i:
                    cold[key].append(result)
    start = {key: medians(value) for key, value in cold.items()}
    for key, label in (
        ("minimal", "minimal Textual app (Static, TextArea, Footer)"),
        ("empty", "empty app"),
        ("conversation", "2,000 messages"),
    ):
        r = start[key]
        say(f"   {label}: first paint {r['wall_ms']:.0f} ms after Popen, {r['paint_ms']:.0f} ms "
            f"after the script's first line ({r['import_ms']:.0f} ms of imports); "
            f"{r['views']:.0f} message views mounted")  # fmt: skip
        say(f"     settled: RSS {r['rss_mb']:.1f} MB, peak (VmHWM) {r['peak_mb']:.1f} MB")
    versus = start["empty"]["wall_ms"] / start["minimal"]["wall_ms"]
    say(f"   llamachat's first paint is {versus:.2f}x the minimal app's (target <= 1.3)")
    extra = start["conversation"]["wall_ms"] - start["empty"]["wall_ms"]
    say(f"   the conversation adds {extra:.0f} ms; targets: empty < 500 ms, conversation < 300 ms")
    met = {
        "cold_start": start["empty"]["wall_ms"] < TARGETS["cold_ms"],
        "conversation": extra < TARGETS["conversation_ms"],
        "versus_minimal": versus <= TARGETS["versus_minimal"],
    }
    summary = {"cold_start": start, "conversation_extra_ms": extra, "versus_minimal": versus}
    return summary | {"bytecode": how}, met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="TUI benchmarks.")
    parser.add_argument("--quick", action="store_true", help="1 streaming run, 2 cold runs")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    parser.add_argument(
        "--only", choices=("stream", "cold"), help="run only the streaming or the cold-start part"
    )
    parser.add_argument("--runs", type=int, help="cold-start runs per app (default 5, 2 quick)")
    args = parser.parse_args(argv)
    stream_runs, cold_runs = (1, 2) if args.quick else (3, 5)

    def say(line: str) -> None:
        if not args.json_only:
            print(line, flush=True)

    summary: dict[str, Any] = {}
    met: dict[str, bool] = {}
    if args.only != "cold":
        part, part_met = streaming_part(say, stream_runs)
        summary, met = summary | part, met | part_met
    if args.only != "stream":
        part, part_met = cold_part(say, args.runs or cold_runs)
        summary, met = summary | part, met | part_met
    say("targets met: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in met.items()))
    summary["targets_met"] = met
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
