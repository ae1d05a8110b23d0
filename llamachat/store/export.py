"""Transcripts: Markdown, JSON (lossless, importable), HTML (self-contained, inert) and text.

Markdown, HTML and text show the active branch; JSON holds every branch and
every stored field. A reply's reasoning shows apart, before the answer, in
Markdown (a blockquote) and HTML (a closed ``<details>``); text leaves it out.
HTML escapes everything a message holds, runs no script
(its Content-Security-Policy forbids it), highlights code, follows the reader's
light or dark preference and prints cleanly (``html_style``).
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from llamachat.store.html_style import Highlighter, stylesheet
from llamachat.store.models import ConversationView, Message
from llamachat.textsafety import escape_controls, escape_json, one_line

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

FORMAT_NAME = "llamachat.conversation"
FORMAT_VERSION = 1
FORMATS = ("md", "json", "html", "txt")

_MESSAGE_FIELDS = (
    "role", "content", "images", "provider", "model", "params", "status", "finish_reason",
    "prompt_tokens", "completion_tokens", "cost_usd", "credits_usd", "job_id", "job_status",
    "error", "error_detail", "raw", "created_at", "completed_at", "ttft", "tokens_per_second",
    "reasoning", "reasoning_seconds",
)  # fmt: skip
_CONVERSATION_FIELDS = (
    "title", "created_at", "updated_at", "system_prompt", "provider", "model", "params",
    "archived", "pinned", "draft",
)  # fmt: skip


def iso(timestamp: float | None) -> str:
    """A UTC ISO 8601 time, to the second."""
    try:
        moment = datetime.fromtimestamp(timestamp, UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return ""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def when_written(timestamp: float | None) -> str:
    try:
        moment = datetime.fromtimestamp(timestamp, UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return "unknown time"
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _totals(messages: Sequence[Message]) -> dict[str, Any]:
    prompt = sum(m.prompt_tokens or 0 for m in messages)
    completion = sum(m.completion_tokens or 0 for m in messages)
    costs = [m.cost_usd for m in messages if m.cost_usd is not None]
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "cost_usd": round(sum(costs), 8) if costs else None,
    }


def _used(messages: Sequence[Message], attribute: str) -> list[str]:
    seen: list[str] = []
    for m in messages:
        value = getattr(m, attribute)
        if m.role == "assistant" and value and value not in seen:
            seen.append(value)
    return seen


def speaker(m: Message) -> str:
    if m.role == "user":
        return "You"
    if m.role == "system":
        return "System"
    origin = " / ".join(one_line(x, 120) for x in (m.provider, m.model) if x)
    return f"Assistant ({origin})" if origin else "Assistant"


def message_state(m: Message) -> str:
    if m.status == "complete":
        return ""
    status = one_line(str(m.status), 40)
    return f" ({status}: {one_line(m.error, 400)})" if m.error else f" ({status})"


def _title(title: str) -> str:
    """A title as a heading or a first line: escaped, on one line (a newline in a title
    would start a heading of its own)."""
    return one_line(title, 400) or "Untitled"


# --- Markdown -------------------------------------------------------------------


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def close_fences(text: str) -> str:
    """``text`` with a code fence it leaves open closed, so what follows stays Markdown."""
    opened: str | None = None
    for line in text.splitlines():
        match = _FENCE.match(line)
        if match is None:
            continue
        marker = match.group(1)
        if opened is None:
            opened = marker
        elif marker[0] == opened[0] and len(marker) >= len(opened) and line.strip() == marker:
            opened = None
    return text if opened is None else text.rstrip("\n") + "\n" + opened


def to_markdown(view: ConversationView) -> str:
    """Front matter, then each message of the active branch with its origin and time."""
    c = view.conversation
    totals = _totals(view.path)
    front = {
        "title": c.title,
        "created": iso(c.created_at),
        "updated": iso(c.updated_at),
        "providers": _used(view.path, "provider"),
        "models": _used(view.path, "model"),
        "prompt_tokens": totals["prompt_tokens"],
        "completion_tokens": totals["completion_tokens"],
        "cost_usd": totals["cost_usd"],
    }
    lines = ["---"]
    for key, value in front.items():
        lines.append(f"{key}: {escape_json(json.dumps(value, ensure_ascii=False))}")
    lines += ["---", "", f"# {_title(c.title)}", ""]
    if c.system_prompt:
        prompt = escape_controls(c.system_prompt)
        lines += ["> **System prompt:** " + prompt.replace("\n", "\n> "), ""]
    for m in view.path:
        lines.append(f"## {speaker(m)} · {when_written(m.created_at)}{message_state(m)}")
        lines.append("")
        if m.reasoning:
            lines += [_markdown_reasoning(m), ""]
        lines.append(close_fences(escape_controls(m.content)))
        for url in m.images:
            lines.append(f"\n*(image: {len(url):,} characters)*")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _thought(m: Message) -> str:
    seconds = m.reasoning_seconds
    return f"Reasoning ({seconds:.0f} s)" if seconds is not None else "Reasoning"


def _markdown_reasoning(m: Message) -> str:
    """The reasoning as a blockquote headed "Reasoning", apart from the answer."""
    body = close_fences(escape_controls(m.reasoning.strip("\n")))
    quoted = "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
    return f"> **{_thought(m)}**\n>\n{quoted}"


# --- plain text -----------------------------------------------------------------


def to_text(view: ConversationView) -> str:
    """The active branch as plain text."""
    c = view.conversation
    out = [_title(c.title), f"Created {when_written(c.created_at)}", ""]
    if c.system_prompt:
        out += [f"System prompt: {escape_controls(c.system_prompt)}", ""]
    for m in view.path:
        out.append(f"{speaker(m)}, {when_written(m.created_at)}{message_state(m)}:")
        out.append(escape_controls(m.content))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# --- JSON -----------------------------------------------------------------------


def to_json_data(view: ConversationView) -> dict[str, Any]:
    """Everything stored about the conversation, every branch; ids are local to the file."""
    local = {m.id: index for index, m in enumerate(view.all_messages, 1)}
    c = view.conversation
    conversation = {name: getattr(c, name) for name in _CONVERSATION_FIELDS}
    conversation["active_leaf"] = (
        local.get(c.active_leaf_id) if c.active_leaf_id is not None else None
    )
    messages = []
    for m in view.all_messages:
        parent = local.get(m.parent_id) if m.parent_id is not None else None
        entry: dict[str, Any] = {"id": local[m.id], "parent": parent}
        for name in _MESSAGE_FIELDS:
            value = getattr(m, name)
            entry[name] = list(value) if isinstance(value, tuple) else value
        messages.append(entry)
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "conversation": conversation,
        "messages": messages,
    }


def to_json(view: ConversationView) -> str:
    """The JSON export as text; control, bidi and invisible characters as ``\\u`` escapes
    (the same data when read back, inert when shown)."""
    return escape_json(json.dumps(to_json_data(view), ensure_ascii=False, indent=2)) + "\n"


# --- HTML -----------------------------------------------------------------------


def _html_renderer(highlighter: Highlighter) -> MarkdownIt:
    """One parser for every message of an export (building one per message took most of a
    long export's time)."""
    from markdown_it import MarkdownIt

    # html=False: raw HTML in a message is shown as text, never interpreted. Code is
    # highlighted into classed spans (escaped by Pygments) styled by the one stylesheet.
    options = {"html": False, "linkify": False, "highlight": highlighter}
    return MarkdownIt("commonmark", options).enable("table")


def to_html(view: ConversationView) -> str:
    """One self-contained, script-free HTML page of the active branch."""
    highlighter = Highlighter()
    renderer = _html_renderer(highlighter)

    def markdown_html(text: str) -> str:
        rendered: str = renderer.render(escape_controls(text))
        return rendered

    c = view.conversation
    title = html.escape(_title(c.title))
    totals = _totals(view.path)
    facts = [f"Created {when_written(c.created_at)}", f"updated {when_written(c.updated_at)}"]
    used = _used(view.path, "provider")
    if used:
        facts.append("providers: " + ", ".join(one_line(name, 80) for name in used))
    if totals["completion_tokens"]:
        facts.append(f"{totals['prompt_tokens']:,} tokens in, {totals['completion_tokens']:,} out")
    if totals["cost_usd"] is not None:
        facts.append(f"cost ${totals['cost_usd']:.6f}")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>\n{stylesheet()}\n</style></head><body>",
        f"<header><h1>{title}</h1><p>{html.escape(' · '.join(facts))}</p></header>",
    ]
    if c.system_prompt:
        parts.append(
            '<article class="system"><h2>System prompt</h2>'
            f"<p>{html.escape(escape_controls(c.system_prompt))}</p></article>"
        )
    for m in view.path:
        state = ""
        if m.status != "complete":
            note = f"[{one_line(str(m.status), 40)}] {one_line(m.error or '', 400)}"
            state = f' <span class="state">{html.escape(note)}</span>'
        heading = f"{html.escape(speaker(m))} · {when_written(m.created_at)}{state}"
        thoughts = ""
        if m.reasoning:
            thoughts = (
                f'<details class="reasoning"><summary>{_thought(m)}</summary>'
                f"{markdown_html(m.reasoning)}</details>"
            )
        parts.append(
            f'<article class="{html.escape(one_line(m.role, 20))}"><h2>{heading}</h2>'
            f"{thoughts}{markdown_html(m.content)}</article>"
        )
    footer = f"Exported by llamachat on {when_written(time.time())}."
    if highlighter.plain_blocks:
        count = highlighter.plain_blocks
        blocks = "1 code block" if count == 1 else f"{count:,} code blocks"
        footer += (
            f" {blocks} past the first {highlighter.budget:,} characters of code"
            f" {'is' if count == 1 else 'are'} shown without highlighting."
        )
    parts.append(f"<footer><p>{footer}</p></footer>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def export(view: ConversationView, fmt: str) -> str:
    """The conversation in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "md":
        return to_markdown(view)
    if fmt == "json":
        return to_json(view)
    if fmt == "html":
        return to_html(view)
    if fmt == "txt":
        return to_text(view)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
