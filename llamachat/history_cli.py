"""``llamachat history``, ``export`` and ``import``: the store from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from llamachat import locations
from llamachat.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from llamachat.store.db import Store, StoreError
from llamachat.store.models import MATCH_END, MATCH_START
from llamachat.textsafety import escape_controls


def _err(message: str) -> None:
    print(f"llamachat: {' '.join(message.split())}", file=sys.stderr)


def _safe(text: str, stream: TextIO) -> str:
    """Untrusted text as it may be written to ``stream`` (escaped on a terminal)."""
    return escape_controls(text) if stream.isatty() else text


def _local_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def with_store(
    run: Callable[[Store, argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Open the store for a command; a broken database is one plain line and exit 2."""

    def wrapper(args: argparse.Namespace) -> int:
        try:
            store = Store.open_default()
        except StoreError as error:
            _err(str(error))
            return EXIT_USAGE
        try:
            return run(store, args)
        except KeyError as missing:
            _err(f"There is no conversation {missing.args[0]}: see `llamachat history list`.")
            return EXIT_USAGE
        except StoreError as error:  # read-only, locked, full or found damaged meanwhile
            _err(str(error))
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
        providers = ",".join(r.providers)[:18]
        pin = "*" if r.pinned else " "
        print(
            f"{r.id:>5}{pin} {_local_time(r.updated_at)}  {r.message_count:>4}  {providers:18}  "
            f"{_safe(r.title, out)}"
        )
    return EXIT_OK


@with_store
def run_show(store: Store, args: argparse.Namespace) -> int:
    """The active branch of one conversation."""
    from llamachat.store.export import to_json, to_text

    view = store.load(args.id)
    text = to_json(view) if args.json else to_text(view)
    sys.stdout.write(text if args.json else _safe(text, sys.stdout))
    return EXIT_OK


def _highlight(snippet: str, stream: TextIO) -> str:
    safe = _safe(snippet.replace("\n", " "), stream)
    if stream.isatty():
        return safe.replace(MATCH_START, "\x1b[1;4m").replace(MATCH_END, "\x1b[0m")
    return safe.replace(MATCH_START, "**").replace(MATCH_END, "**")


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
    for h in hits:
        where = f"message {h.message_id} ({h.role})" if h.message_id else "title"
        print(f"#{h.conversation_id} {_safe(h.title, sys.stdout)} — {where}")
        print(f"    {_highlight(h.snippet, sys.stdout)}")
    return EXIT_OK


@with_store
def run_delete(store: Store, args: argparse.Namespace) -> int:
    """Delete one conversation; asks first only when a person is at the keyboard."""
    conversation = store.conversation(args.id)
    if not args.yes and sys.stdin.isatty():
        count = len(store.messages(args.id))
        answer = input(
            f"Delete conversation {args.id} “{_safe(conversation.title, sys.stdout)}” "
            f"({count} messages)? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return EXIT_OK
    store.delete_conversation(args.id)
    print(f"Deleted conversation {args.id}.")
    return EXIT_OK


@with_store
def run_export(store: Store, args: argparse.Namespace) -> int:
    """Write a transcript to a file or stdout."""
    from llamachat.store.export import export

    text = export(store.load(args.id), args.format)
    if args.output:
        path = Path(args.output).expanduser()
        try:
            locations.write_private(path, text)
        except OSError as error:
            _err(f"Cannot write {path}: {error.strerror}.")
            return EXIT_FAILURE
        print(f"Exported conversation {args.id} to {path}", file=sys.stderr)
        return EXIT_OK
    sys.stdout.write(_safe(text, sys.stdout) if args.format in ("md", "txt") else text)
    return EXIT_OK


@with_store
def run_import(store: Store, args: argparse.Namespace) -> int:
    """Create a conversation from an export file."""
    from llamachat.store.export import ImportError_, import_data

    path = Path(args.file).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _err(f"There is no file {path}.")
        return EXIT_USAGE
    except (OSError, UnicodeDecodeError) as error:
        _err(f"Cannot read {path}: {error}.")
        return EXIT_USAGE
    except json.JSONDecodeError as error:
        _err(f"{path} is not JSON (line {error.lineno}, column {error.colno}): {error.msg}.")
        return EXIT_USAGE
    try:
        conversation_id = import_data(store, data)
    except ImportError_ as error:
        _err(f"{path}: {error}")
        return EXIT_USAGE
    print(f"Imported as conversation {conversation_id}.")
    return EXIT_OK


@with_store
def run_resume(store: Store, args: argparse.Namespace) -> int:
    """Fetch the replies of queued jobs left behind by a stopped llamachat."""
    import asyncio

    from llamachat.config import ConfigError, load_config
    from llamachat.jobs import resume_all

    try:
        config = load_config()
    except ConfigError as error:
        _err(str(error))
        return EXIT_USAGE
    results = asyncio.run(resume_all(store, config))
    if not results:
        print("No queued jobs to resume.")
    for message_id, outcome in results:
        print(f"message {message_id}: {_safe(outcome, sys.stdout)}")
    return EXIT_OK
