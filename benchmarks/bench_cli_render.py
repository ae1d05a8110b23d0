"""``llamachat ask`` drawing Markdown on a terminal: is the work linear in the reply's length?

The replies are ``bench_tui``'s: Markdown (heading, prose, a list, a table) around a fenced
``python`` block of 3n/16 lines (375 lines for 2,000 tokens, 1,500 for 8,000).

1. The renderer alone. A child process feeds the reply, token by token, to
   :class:`llamachat.cli_render.MarkdownPrinter` writing to a pseudo terminal (80x40) whose
   other side this script drains. Two ways: every token drawn (``frame=0``, the worst case:
   each token erases and redraws the open block), and as ``ask`` draws (at most once a
   frame, tokens fed at 2,500/s on an absolute schedule). The child's CPU time from the
   first token to the last byte written.
2. The whole command. ``llamachat ask`` in a pseudo terminal against ``bench_tui``'s paced
   server (a spawned process, 2,500 tokens/s), drawn and with ``--raw``: the child's CPU
   time (user + system, from ``wait4``) and wall time.

Target: CPU 8,000 / 2,000 tokens about 4 (linear), at most 5. Run from the repository root::

    .venv/bin/python benchmarks/bench_cli_render.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_tui import RATE, server_process, use_dirs  # noqa: E402

SIZES = (2000, 8000)
COLUMNS, LINES = 80, 40

CHILD = """
import json, os, sys, time
sys.path.insert(0, {root!r})
from benchmarks.bench_tui import reply_tokens
from llamachat.cli_render import MarkdownPrinter, terminal_console
n, frame, rate, fd = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
tokens = reply_tokens(n)
out = open(fd, "w", encoding="utf-8", closefd=False)
console = terminal_console(out)
console.size = ({columns}, {lines})
printer = MarkdownPrinter(out, frame=frame, console=console)
printer.feed("warm up\\n\\n```python\\nx = 1\\n```\\n\\n| a |\\n|---|\\n| 1 |\\n")
cpu, start = time.process_time(), time.monotonic()
for index, token in enumerate(tokens):
    if rate and (wait := start + index / rate - time.monotonic()) > 0:
        time.sleep(wait)
    printer.feed(token)
    if rate and frame and time.monotonic() - printer._last_draw >= printer._interval:
        printer.draw()  # what the event loop's timer does in ask
printer.finish()
out.flush()
print(json.dumps({{"cpu": time.process_time() - cpu, "wall": time.monotonic() - start}}))
"""


def drain(fd: int, done: threading.Event, counted: list[int]) -> None:
    """Read the terminal's other side until it closes: what a terminal emulator does."""
    while not done.is_set():
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            if not data:
                return
            counted[0] += len(data)


def renderer_once(n: int, frame: float, rate: float) -> dict[str, float]:
    """Part 1: one child feeding the printer; its CPU and wall time, bytes written."""
    leader, follower = pty.openpty()
    done, counted = threading.Event(), [0]
    reader = threading.Thread(target=drain, args=(leader, done, counted), daemon=True)
    reader.start()
    script = CHILD.format(root=str(ROOT), columns=COLUMNS, lines=LINES)
    result = subprocess.run(
        [sys.executable, "-c", script, str(n), str(frame), str(rate), str(follower)],
        pass_fds=(follower,),
        capture_output=True,
        text=True,
        check=True,
    )
    os.close(follower)
    time.sleep(0.2)  # let the reader take the last bytes
    done.set()
    reader.join()
    os.close(leader)
    data: dict[str, float] = json.loads(result.stdout)
    data["mb"] = counted[0] / 1e6
    return data


def ask_once(n: int, raw: bool) -> dict[str, float]:
    """Part 2: ``llamachat ask`` in a pseudo terminal; its CPU (wait4) and wall time."""
    leader, follower = pty.openpty()
    done, counted = threading.Event(), [0]
    reader = threading.Thread(target=drain, args=(leader, done, counted), daemon=True)
    reader.start()
    command = [sys.executable, "-m", "llamachat", "ask", "-q", "--no-save"]
    command += ["--raw"] if raw else []
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(LINES)}
    start = time.monotonic()
    proc = subprocess.Popen(
        [*command, f"reply {n}"], stdout=follower, stderr=follower, env=env, cwd=ROOT
    )
    os.close(follower)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    time.sleep(0.2)
    done.set()
    reader.join()
    os.close(leader)
    if proc.returncode != 0:
        raise RuntimeError(f"ask exited {proc.returncode}")
    return {"cpu": usage.ru_utime + usage.ru_stime, "wall": wall, "mb": counted[0] / 1e6}


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def report(name: str, results: dict[int, dict[str, float]]) -> dict[str, Any]:
    small, big = results[SIZES[0]], results[SIZES[1]]
    ratio = big["cpu"] / small["cpu"]
    print(
        f"{name:34} 2k: {small['cpu'] * 1000:7.0f} ms CPU ({small['wall']:.2f} s wall, "
        f"{small['mb']:.1f} MB)   8k: {big['cpu'] * 1000:7.0f} ms CPU ({big['wall']:.2f} s "
        f"wall, {big['mb']:.1f} MB)   ratio {ratio:.2f}"
    )
    return {"2k": small, "8k": big, "cpu_ratio": ratio}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    out: dict[str, Any] = {}
    modes = {
        "renderer, every token drawn": (0.0, 0.0),
        "renderer, as ask draws (2,500/s)": (1 / 20, float(RATE)),
    }
    for name, (frame, rate) in modes.items():
        runs = {n: [renderer_once(n, frame, rate) for _ in range(args.runs)] for n in SIZES}
        out[name] = report(name, {n: median(r) for n, r in runs.items()})
    with tempfile.TemporaryDirectory() as tmp, server_process(SIZES) as (url, _):
        use_dirs(tmp, url)
        for raw in (False, True):
            name = "llamachat ask" + (" --raw" if raw else " (drawn)")
            runs = {n: [ask_once(n, raw) for _ in range(args.runs)] for n in SIZES}
            out[name] = report(name, {n: median(r) for n, r in runs.items()})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
