"""Making untrusted text (model replies, titles, imported files, server messages) safe to show.

A reply may hold escape sequences: an OSC 52 sequence can write the clipboard,
OSC 0/2 retitles the window, CSI moves the cursor. Bidi overrides reorder the
text around them (and, in a terminal that applies bidi, the modal drawn over
them), and zero-width characters hide where one word ends. Before untrusted
text reaches a terminal or a file that ``cat`` may replay, such characters are
shown escaped: ``\\x1b``, ``\\u202e``. One rule for every place:

* :func:`escape_controls` — message bodies (a reply, a prompt, an export's
  text): C0 but newline and tab, DEL, C1, line/paragraph separators, bidi
  overrides, embeddings and isolates, and the invisible format characters.
  Joiners (U+200C/U+200D) and the bidi marks (U+200E/U+200F/U+061C) stay: they
  are how Persian, Indic scripts, emoji sequences and RTL prose are written,
  and they cannot move text beyond their neighbours.
* :func:`escape_label` — titles, names, notices, anything in a label: the
  body's rule plus joiners and bidi marks (a title has no business hiding them).
* :func:`one_line` — a label flattened onto one line and shortened.
"""

from __future__ import annotations

import re

#: C0 (but newline and tab), DEL and C1: what rewrites a terminal.
_CONTROLS = [*(c for c in range(0x00, 0x20) if chr(c) not in "\n\t"), 0x7F, *range(0x80, 0xA0)]
#: Line and paragraph separators: a line break no terminal draws as one.
_SEPARATORS = [0x2028, 0x2029]
#: Bidi embeddings, overrides (U+202A-U+202E) and isolates (U+2066-U+2069): they reorder text.
_BIDI_CONTROLS = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
#: Format characters that draw nothing: soft hyphen, zero-width space, word joiner and the
#: invisible operators, deprecated format controls, BOM, interlinear annotations, tags.
_INVISIBLE = [
    0x00AD,
    0x180E,
    0x200B,
    *range(0x2060, 0x2065),
    *range(0x206A, 0x2070),
    0xFEFF,
    *range(0xFFF9, 0xFFFC),
    0xE0001,
    *range(0xE0020, 0xE0080),
]
#: Zero-width joiners and bidi marks: part of ordinary text, but never of a label.
_JOINERS_AND_MARKS = [0x200C, 0x200D, 0x200E, 0x200F, 0x061C]


def _shown(code: int) -> str:
    if code < 0x100:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _rule(codes: list[int]) -> tuple[dict[int, str], re.Pattern[str]]:
    table = {code: _shown(code) for code in codes}
    # Runs as ranges: a class of single characters searches some 40 times slower.
    runs: list[list[int]] = []
    for code in sorted(table):
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    ranges = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in runs
    )
    return table, re.compile(f"[{ranges}]")


_BODY_TABLE, _BODY = _rule([*_CONTROLS, *_SEPARATORS, *_BIDI_CONTROLS, *_INVISIBLE])
_LABEL_TABLE, _LABEL = _rule(
    [*_CONTROLS, *_SEPARATORS, *_BIDI_CONTROLS, *_INVISIBLE, *_JOINERS_AND_MARKS]
)


def escape_controls(text: str) -> str:
    """``text`` (a message body) with control, bidi and invisible characters shown
    escaped (``\\x1b``, ``\\u202e``); newline and tab kept."""
    if _BODY.search(text) is None:
        return text
    return text.translate(_BODY_TABLE)


def escape_label(text: str) -> str:
    """``text`` (a title, a name, a notice) with every character that could rewrite the
    terminal, reorder or hide text shown escaped; newline and tab kept."""
    if _LABEL.search(text) is None:
        return text
    return text.translate(_LABEL_TABLE)


def one_line(text: str, limit: int = 240) -> str:
    """``text`` reduced to one safe line of at most ``limit`` characters."""
    flat = " ".join(escape_label(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def escape_json(dumped: str) -> str:
    """JSON text (from ``json.dumps``) with every character the label rule escapes written
    as a JSON ``\\u`` escape: the same data, but inert when a terminal shows the file."""
    return _LABEL.sub(_json_escape, dumped)


def marked_pieces(text: str, start: str, end: str) -> list[tuple[str, bool]]:
    """``text`` whose matches sit between the ``start`` and ``end`` markers (a search
    snippet), as one safe line in pieces: ``(piece, is a match)``, markers gone, the
    spaces around each match kept ("about cats")."""
    pieces: list[tuple[str, bool]] = []
    for index, part in enumerate(text.replace(end, start).split(start)):
        flat = one_line(part, 10_000)
        if part[:1].isspace():
            flat = " " + flat
        if flat.strip() and part[-1:].isspace():
            flat += " "
        if flat:
            pieces.append((flat, index % 2 == 1))
    return pieces
