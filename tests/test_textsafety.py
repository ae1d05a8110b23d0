"""The one rule for showing untrusted text: what is escaped in a body, and in a label."""

from __future__ import annotations

import json
import unicodedata

from llamachat.textsafety import escape_controls, escape_json, escape_label, one_line


def test_body_rule_escapes_terminal_controls_bidi_and_invisibles_but_keeps_prose() -> None:
    hostile = "a\x1b]52;c;eA==\x07b\x9b31m\u202eR\u202c\u2067I\u2069\u200bZ\ufeffB\u00adS\u2028"
    assert escape_controls(hostile) == (
        "a\\x1b]52;c;eA==\\x07b\\x9b31m\\u202eR\\u202c\\u2067I\\u2069\\u200bZ\\ufeffB\\xadS\\u2028"
    )
    prose = "line\n\tindent · שלום\u200f (Hebrew) · می\u200cخواهم · 👩\u200d💻 · ünïcödé"
    assert escape_controls(prose) == prose  # joiners and bidi marks are how text is written


def test_label_rule_also_shows_joiners_and_marks_and_every_invisible_format_character() -> None:
    assert escape_label("a\u200db\u200ec\u200fd\u061ce\u200cf") == (
        "a\\u200db\\u200ec\\u200fd\\u061ce\\u200cf"
    )
    invisible = [
        chr(c) for c in (0xAD, 0x180E, 0x200B, *range(0x2060, 0x2065), 0xFEFF, 0xE0001, 0xE0041)
    ]
    for char in invisible:
        assert unicodedata.category(char) == "Cf"
        assert char not in escape_label(f"x{char}y") and char not in escape_controls(f"x{char}y")
    assert one_line("  two\nlines\x1b[2J  ", 40) == "two lines\\x1b[2J"
    assert one_line("x" * 50, 10) == "x" * 9 + "…"


def test_json_escapes_are_lossless() -> None:
    data = {"t": "a\x9b\u202e\u200d\U000e0041\n"}
    text = escape_json(json.dumps(data, ensure_ascii=False))
    assert "\x9b" not in text and "\u202e" not in text and "\U000e0041" not in text
    assert json.loads(text) == data
