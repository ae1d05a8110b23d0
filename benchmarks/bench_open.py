"""Opening a 2,000-message conversation in a running app, until its last screen is painted.

``bench_tui.py`` measures the same conversation opened during a cold start; this
measures what a person feels when they pick it in the sidebar: a new tab, the
store read, the newest messages mounted and laid out. Target: under 300 ms.

Run from the repository root: ``python benchmarks/bench_open.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_tui import build_conversation
from llamachat.store.db import Store
from llamachat.tui.app import LlamaChatApp
from llamachat.tui.conversation.message import MessageView


async def open_once(conversation_id: int, last_line: str) -> float:
    """Milliseconds from ``open_conversation`` to ``last_line`` in the compositor's strips."""
    app = LlamaChatApp(discover_local=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        started = time.perf_counter()
        app.open_conversation(conversation_id)

        def painted() -> bool:
            pane = app.active_pane
            if pane is None or pane.conversation_id != conversation_id or pane.messages.filling:
                return False
            views = list(pane.query(MessageView))
            if not views or views[-1].message.id != pane.session.path[-1].id:
                return False
            strips = app.screen._compositor.render_strips()
            return any(last_line in strip.text for strip in strips)

        while not painted():
            await pilot.pause(0.002)
        return (time.perf_counter() - started) * 1000


async def main(runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        last_line = build_conversation(tmp)
        with Store.open_default() as store:
            big = store.latest_conversation_id()
            assert big is not None
            small = store.create_conversation(title="a short chat")  # the app opens this first
            store.add_message(small.id, "user", "hello")
        timings = [await open_once(big, last_line) for _ in range(runs)]
    return {
        "open_2000_messages_ms": {
            "median": statistics.median(timings),
            "min": min(timings),
            "runs": [round(t, 1) for t in timings],
            "target": 300,
        }
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    result = asyncio.run(main(parser.parse_args().runs))
    figures = result["open_2000_messages_ms"]
    assert isinstance(figures, dict)
    print(
        f"open a 2,000-message conversation: median {figures['median']:.0f} ms, min {figures['min']:.0f} ms (target < 300 ms)"
    )
    print(json.dumps(result))
