"""Exports of a hostile conversation are inert when ``cat`` replays them, and JSON stays lossless."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from llamachat.store.db import Store
from llamachat.store.export import export
from llamachat.store.models import MessageStatus

OSC52 = "\x1b]52;c;Y3VybCBldmlsfHNo\x07"
TITLE = f"Pwn {OSC52}\x1b]0;pwned\x07\x9b31m\u202eevil\u202c\u200bzw\nline two"
BODY = f"reply {OSC52} \x1b]2;title\x07 \x9b2J \u2066iso\u2069 z\u200bw\ufeff"
#: Bytes a terminal acts on, and characters that reorder or hide text.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff]")


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Store, int]:
    store = Store(tmp_path / "db.sqlite3")
    c = store.create_conversation(title=TITLE, system_prompt=f"sys {OSC52}")
    user = store.add_message(c.id, "user", f"question {OSC52}")
    store.add_message(
        c.id,
        "assistant",
        BODY,
        parent_id=user.id,
        provider="prov\x1b]0;x\x07",
        model="m\u202e8b",
        status=MessageStatus.FAILED,
        error=f"boom {OSC52}",
        reasoning=f"thinking {OSC52}",
    )
    return store, c.id


@pytest.mark.parametrize("fmt", ["md", "txt", "html", "json"])
def test_every_export_is_inert_in_a_terminal(hostile: tuple[Store, int], fmt: str) -> None:
    store, cid = hostile
    text = export(store.load(cid), fmt)
    assert not UNSAFE.findall(text), UNSAFE.findall(text)
    if fmt != "json":
        assert "\\x1b]52;c;Y3VybCBldmlsfHNo\\x07" in text  # shown, not obeyed
        assert "\\x9b2J" in text and "\\u2066iso\\u2069" in text and "z\\u200bw\\ufeff" in text
    store.close()


def test_markdown_and_text_titles_are_one_escaped_line(hostile: tuple[Store, int]) -> None:
    store, cid = hostile
    md = export(store.load(cid), "md")
    heading = next(line for line in md.splitlines() if line.startswith("# "))
    assert heading.startswith("# Pwn \\x1b]52;c;") and heading.endswith("line two")
    assert "\nline two" not in md  # a newline in a title does not start a line of its own
    txt = export(store.load(cid), "txt")
    assert txt.splitlines()[0].startswith("Pwn \\x1b]52;c;")
    assert "## Assistant (prov\\x1b]0;x\\x07 / m\\u202e8b)" in md
    store.close()


def test_json_export_is_inert_and_still_lossless(hostile: tuple[Store, int]) -> None:
    store, cid = hostile
    text = export(store.load(cid), "json")
    assert "\\u009b2J" in text and "\\u202e" in text
    data = json.loads(text)
    assert data["conversation"]["title"] == TITLE
    assert data["messages"][1]["content"] == BODY
    store.close()
