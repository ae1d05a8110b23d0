"""Importing a 1,000,000-message export file, as ``llamachat import FILE`` does it.

What is built: a llamachat JSON export (format version 1, every field the exporter writes)
of ``--messages`` messages (default 1,000,000) in one conversation: alternating user and
assistant messages in one chain, every tenth reply a regenerated sibling, seeded
pseudo-English of 5-60 words each, usage and cost on the replies.

What is measured: ``llamachat import FILE`` run as a subprocess against a fresh data dir
(wall clock, the whole command: reading, checking, writing, committing), then the counts
and a search for a word only the last message holds (the index is correct at once).
Target: well under a minute for a million messages (the per-message-transaction import
took 489 s).

Run from the repository root: ``python benchmarks/bench_import.py [--messages N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from llamachat.store.export import _MESSAGE_FIELDS  # noqa: E402

WORDS = (  # noqa: SIM905
    "the of and to in is that for it as with was on be by this are or from at an which have "
    "not but can all more one about their has will other would there were if when what so "
    "heron river stone bread sourdough python function value error import store query index "
    "model token reply stream provider cost thread window garden mountain lantern harbour"
).split()
LAST_WORD = "zanzibarquuxend"


def build(path: Path, messages: int, seed: int = 7) -> None:
    """Write the export file (streamed out, so building it needs little memory)."""
    rng = random.Random(seed)
    start = time.time() - messages - 1000
    with path.open("w", encoding="utf-8") as out:
        conversation = {
            "title": "A very long conversation", "created_at": start, "updated_at": start + messages,
            "system_prompt": None, "provider": "deepinfra", "model": "llama", "params": {},
            "archived": False, "pinned": False, "draft": "", "active_leaf": None,
        }  # fmt: skip
        out.write('{"format": "llamachat.conversation", "version": 1, "conversation": ')
        out.write(json.dumps(conversation))
        out.write(', "messages": [\n')
        chain_parent: int | None = None
        for number in range(1, messages + 1):
            assistant = number % 2 == 0
            entry: dict[str, Any] = dict.fromkeys(_MESSAGE_FIELDS)
            words = rng.choices(WORDS, k=rng.randint(5, 60))
            if number == messages:
                words.append(LAST_WORD)
            regenerated = assistant and number % 20 == 0 and number < messages
            entry.update(
                id=number,
                parent=chain_parent,
                role="assistant" if assistant else "user",
                content=" ".join(words),
                images=[],
                status="complete",
                created_at=start + number,
            )
            if assistant:
                entry.update(
                    provider="deepinfra", model="llama", prompt_tokens=rng.randint(10, 4000),
                    completion_tokens=len(words), cost_usd=round(rng.random() / 1000, 8),
                    completed_at=start + number + 0.5, ttft=0.3, tokens_per_second=80.0,
                    finish_reason="stop",
                )  # fmt: skip
            out.write(json.dumps(entry, ensure_ascii=False))
            out.write(",\n" if number < messages else "\n")
            if not regenerated:  # a regenerated reply is a sibling: the chain goes on
                chain_parent = number  # from the reply before it
        out.write("]}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--dir", help="work here instead of a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(args.dir) if args.dir else Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        export = work / "export.json"
        started = time.perf_counter()
        build(export, args.messages)
        built = time.perf_counter() - started
        size_mb = export.stat().st_size / 1024**2
        print(f"built {export} ({args.messages:,} messages, {size_mb:,.0f} MB) in {built:.1f} s")
        env = dict(os.environ, LLAMACHAT_DATA_DIR=str(work / "data"),
                   LLAMACHAT_CONFIG=str(work / "config.toml"), PYTHONPATH=str(REPO))  # fmt: skip
        started = time.perf_counter()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = subprocess.run(
            [sys.executable, "-m", "llamachat", "import", "--max-size", "4096", str(export)],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = usage.ru_utime + usage.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
        if result.returncode != 0:
            print(result.stdout, result.stderr, sep="\n")
            return 1
        progress = [line for line in result.stderr.splitlines() if line.startswith("Importing")]
        with sqlite3.connect(work / "data" / "llamachat.sqlite3") as db:
            stored = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
            found = db.execute(
                "SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH ?", (LAST_WORD,)
            ).fetchone()[0]
        print(f"import: {seconds:.1f} s wall, {cpu:.1f} s CPU (the machine's load shows in "
              f"the difference); {args.messages / seconds:,.0f} messages/s; "
              f"{stored:,} messages stored; search for the last message's word: {found} hit; "
              f"{len(progress)} progress lines on stderr; stdout: {result.stdout.strip()!r}")  # fmt: skip
        print(json.dumps({"benchmark": "import", "messages": args.messages,
                          "file_mb": round(size_mb, 1), "import_seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                          "stored": stored, "search_hits": found}))  # fmt: skip
        return 0 if stored == args.messages and found == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
