"""``llamachat history``, ``export`` and ``import``: the store from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TextIO

from llamachat.exit_codes import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from llamachat.store.db import Store, StoreError
from llamachat.store.models import MATCH_END, MATCH_START, SearchHit
from llamachat.terminal import say_error, shown, shown_text
from llamachat.textsafety import marked_pieces, one_line


def _local_time(timestamp: float | None) -> str:
    """The local date and time, or ``unknown`` when the stored time cannot be read."""
    try:
        return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return "unknown"


def with_store(
    run: Callable[[Store, argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Open the store for a command; a broken database is one plain line and exit 2."""

    def wrapper(args: argparse.Namespace) -> int:
        try:
            store = Store.open_default()
        except StoreError as error:
            say_error(str(error))
            return EXIT_USAGE
        try:
            return run(store, args)
        except KeyError as missing:
            say_error(f"There is no conversation {missing.args[0]}: see `llamachat history list`.")
            return EXIT_USAGE
        except StoreError as error:  # read-only, locked, full or found damaged meanwhile
            say_error(str(error))
            return EXIT_FAILURE
        finally:
            store.close()

    return wrapper


@with_store
def run_list(store: Store, args: argparse.Namespace) -> int:
    """Newest conversations first."""
    rows = store.list_conversations(args.limit)
    if args.json:
        data = [
            {
                "id": r.id,
                "title": r.title,
                "updated_at": r.updated_at,
                "messages": r.message_count,
                "providers": list(r.providers),
                "pinned": r.pinned,
            }
            for r in rows
        ]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not rows:
        print('No conversations yet. Start one with: llamachat ask "Hello"')
        return EXIT_OK
    out = sys.stdout
    print(f"{'ID':>5}  {'UPDATED':16}  {'MSGS':>4}  {'PROVIDERS':18}  TITLE")
    for r in rows:
        providers = shown(",".join(r.providers), out, 18)[:18]
        pin = "*" if r.pinned else " "
        print(
            f"{r.id:>5}{pin} {_local_time(r.updated_at)}  {r.message_count:>4}  {providers:18}  "
            f"{shown(r.title, out)}"
        )
    return EXIT_OK


@with_store
def run_show(store: Store, args: argparse.Namespace) -> int:
    """The active branch of one conversation: drawn as Markdown on a terminal (not with
    ``--raw``), plain text into a pipe."""
    from llamachat.store.export import to_json, to_text

    view = store.load(args.id)
    if not args.json and not getattr(args, "raw", False) and sys.stdout.isatty():
        from llamachat.cli_render import drawable, print_conversation

        if drawable(sys.stdout):
            print_conversation(view, sys.stdout)
            return EXIT_OK
    text = to_json(view) if args.json else to_text(view)
    sys.stdout.write(text if args.json else shown_text(text, sys.stdout))
    return EXIT_OK


def _print_hits(hits: list[SearchHit], stream: TextIO) -> None:
    """Each hit: its conversation, and its snippet with the matches highlighted. On a
    terminal, by Rich (bold, reverse video; untrusted text escaped); into a pipe, plain
    text with the matches between ``**``."""
    if not stream.isatty():
        for h in hits:
            snippet = h.snippet.replace(MATCH_START, "**").replace(MATCH_END, "**")
            print(f"#{h.conversation_id} {h.title} — {_where(h)}", file=stream)
            print(f"    {' '.join(snippet.split())}", file=stream)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, highlight=False, markup=False, emoji=False, soft_wrap=True)
    for h in hits:
        head = Text(f"#{h.conversation_id} ")
        head.append(one_line(h.title, 400), style="bold")
        head.append(f" — {_where(h)}", style="dim")
        console.print(head)
        line = Text("    ")
        for piece, match in marked_pieces(h.snippet, MATCH_START, MATCH_END):
            line.append(piece, style="bold reverse" if match else "")
        console.print(line)


def _where(h: SearchHit) -> str:
    return f"message {h.message_id} ({h.role})" if h.message_id else "title"


@with_store
def run_search(store: Store, args: argparse.Namespace) -> int:
    """Full-text search, best first, with highlighted snippets."""
    hits = store.search(args.query, args.limit)
    if args.json:
        data = [
            {
                "conversation_id": h.conversation_id,
                "title": h.title,
                "message_id": h.message_id,
                "role": h.role,
                "snippet": h.snippet.replace(MATCH_START, "**").replace(MATCH_END, "**"),
            }
            for h in hits
        ]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not hits:
        print(f"Nothing matches {args.query!r}.")
        return EXIT_OK
    _print_hits(hits, sys.stdout)
    return EXIT_OK


@with_store
def run_delete(store: Store, args: argparse.Namespace) -> int:
    """Delete one conversation: asks first; with no terminal to ask, refuses without ``--yes``."""
    conversation = store.conversation(args.id)
    if not args.yes:
        if not sys.stdin.isatty():
            say_error(
                f"Not deleting conversation {args.id}: there is no terminal to ask on, "
                "so add --yes to delete it."
            )
            return EXIT_USAGE
        count = len(store.messages(args.id))
        question = (
            f"Delete conversation {args.id} “{shown(conversation.title, sys.stdout)}” "
            f"({count} messages)? [y/N] "
        )
        if not _confirmed(question):
            print("Nothing deleted.")
            return EXIT_OK
    store.delete_conversation(args.id)
    print(f"Deleted conversation {args.id}.")
    return EXIT_OK


def _confirmed(question: str) -> bool:
    """Whether the person answered yes; end of input or Ctrl+C means no."""
    try:
        answer = input(question)
    except (EOFError, KeyboardInterrupt):
        print()
        return False
    return answer.strip().lower() in ("y", "yes")


@with_store
def run_export(store: Store, args: argparse.Namespace) -> int:
    """Write a transcript to stdout, or to a new file (``--force`` replaces one)."""
    from llamachat.export_file import ExportRefused, write_text
    from llamachat.store.export import export

    text = export(store.load(args.id), args.format)
    if not args.output or args.output == "-":
        sys.stdout.write(shown_text(text, sys.stdout) if args.format in ("md", "txt") else text)
        return EXIT_OK
    path = Path(args.output).expanduser()
    try:
        write_text(text, path, replace=args.force)
    except ExportRefused as refused:
        hint = " Add --force to replace it." if refused.exists else ""
        say_error(f"{refused}{hint}")
        return EXIT_USAGE if refused.usage else EXIT_FAILURE
    print(f"Exported conversation {args.id} to {path}", file=sys.stderr)
    return EXIT_OK


def run_import(args: argparse.Namespace) -> int:
    """Create a conversation from an export file: checked whole first, then stored whole.

    Ctrl+C stops it at once, whatever the reading, checking or writing: the transaction
    is rolled back, so nothing is imported.
    """
    try:
        with _interruptible():
            return _import(args)
    except KeyboardInterrupt:
        say_error("Import interrupted: nothing was imported.")
        return EXIT_INTERRUPTED


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGINT raises ``KeyboardInterrupt`` even if llamachat was started with it ignored, as a
    shell starts a job in the background (``llamachat import big.json &`` in a script): the
    import went on to the end and exited 0 after ``kill -INT``, where ``ask`` stops."""
    import signal

    before = signal.getsignal(signal.SIGINT)
    if before is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _import(args: argparse.Namespace) -> int:
    import sqlite3

    from llamachat.store.importer import MAX_IMPORT_BYTES, ImportError_, plan, read_file, write

    path = Path(args.file).expanduser()
    limit = args.max_size * 1024 * 1024 if args.max_size else MAX_IMPORT_BYTES
    try:
        size = path.stat().st_size if path.is_file() else 0
    except OSError:
        size = 0
    if size >= PROGRESS_FROM_BYTES:  # reading and checking a large file takes seconds
        print(f"Reading and checking {path.name} ({size / 1024**2:,.0f} MB)…", file=sys.stderr)
    try:
        checked = plan(read_file(path, limit))
    except ImportError_ as error:
        say_error(f"{path}: {error} Nothing was imported.")
        return EXIT_USAGE
    try:
        store = Store.open_default()
    except StoreError as error:
        say_error(str(error))
        return EXIT_USAGE
    progress = ImportProgress(sys.stderr) if checked.count >= PROGRESS_FROM else None
    try:
        conversation_id = write(store, checked, progress)
    except StoreError as error:  # read-only, locked, full
        say_error(f"{error} Nothing was imported.")
        return EXIT_FAILURE
    except sqlite3.Error as error:
        say_error(f"Cannot import {path}: the database said {error}. Nothing was imported.")
        return EXIT_FAILURE
    finally:
        store.close()
        if progress is not None:
            progress.finish()
    print(f"Imported as conversation {conversation_id}.")
    return EXIT_OK


#: Imports of at least this many messages report their progress on stderr.
PROGRESS_FROM = 20_000
#: Files of at least this size say that they are being read.
PROGRESS_FROM_BYTES = 50 * 1024 * 1024
#: Without a terminal, one progress line per this many messages.
PROGRESS_LINE_EVERY = 100_000


class ImportProgress:
    """``Importing: 40,000 of 1,000,000 messages`` on stderr: redrawn in place on a terminal,
    a line every :data:`PROGRESS_LINE_EVERY` messages otherwise. stdout stays clean."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.what = ""
        self.reported = 0
        self.drawn = False

    def __call__(self, what: str, done: int, total: int) -> None:
        if what != self.what:
            self.what, self.reported = what, 0
        elif not self.tty and done < total and done - self.reported < PROGRESS_LINE_EVERY:
            return
        self.reported = done
        line = f"{what}: {done:,} of {total:,} messages ({done * 100 // max(total, 1)}%)"
        self.stream.write(f"\r{line}\x1b[K" if self.tty else line + "\n")
        self.drawn = True
        self.stream.flush()

    def finish(self) -> None:
        """End the redrawn line, so what follows starts on its own."""
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()


@with_store
def run_resume(store: Store, args: argparse.Namespace) -> int:
    """Fetch the replies of queued jobs left behind by a stopped llamachat."""
    import asyncio

    from llamachat.config import load_config
    from llamachat.config_errors import ConfigError
    from llamachat.jobs import resume_all

    try:
        config = load_config()
    except ConfigError as error:
        say_error(str(error))
        return EXIT_USAGE
    results = asyncio.run(resume_all(store, config))
    if not results:
        print("No queued jobs to resume.")
    for message_id, outcome in results:
        print(f"message {message_id}: {shown_text(outcome, sys.stdout)}")
    return EXIT_OK
