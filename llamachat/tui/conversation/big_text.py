"""Drawing a huge message a part at a time: its end first, earlier parts on request.

A 100 MB reply cannot be parsed and laid out in one go without freezing the app for
minutes. A message longer than :data:`BIG` is drawn from its end backwards, a step of
:data:`STEP` characters per frame, until :data:`INITIAL` characters show; a row above
them says how much is left and shows :data:`MORE` more when asked. Steps are cut at
blank lines where there are some, and a step that starts inside a fenced code block
opens it again (the blocks were found once, in a thread, by
:func:`~llamachat.tui.conversation.blocks.code_spans`), so each part is drawn as it would be whole.
"""

from __future__ import annotations

from bisect import bisect_right

from rich.text import Text

from llamachat.tui.conversation.blocks import CodeSpan, code_spans

#: Messages longer than this (characters) are drawn a part at a time.
BIG = 64 * 1024
#: Characters drawn when the message opens, a step per frame.
INITIAL = 48 * 1024
#: Characters drawn in one frame: a step costs tens of milliseconds at most.
STEP = 8 * 1024
#: Characters more each time the person asks for earlier text.
MORE = 256 * 1024
#: How far back from a step's nominal start a blank line is looked for.
_SLACK = 2048


def size_text(chars: int) -> str:
    """``chars`` as a short size: 812 characters, 45 KB, 9.9 MB."""
    if chars < 1024:
        return f"{chars:,} characters"
    if chars < 1024 * 1024:
        return f"{chars / 1024:.0f} KB"
    return f"{chars / (1024 * 1024):.1f} MB"


class TextWindow:
    """The part of a long text being shown: everything from :attr:`cut` to its end."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cut = len(text)
        self._spans: list[CodeSpan] | None = None
        self._starts: list[int] = []

    @property
    def ready(self) -> bool:
        """Whether the code blocks have been found (:meth:`prepare` ran)."""
        return self._spans is not None

    def prepare(self) -> None:
        """Find the code blocks (run it in a thread: ~0.2 s on 100 MB)."""
        spans = code_spans(self.text)
        self._starts = [span.body for span in spans]
        self._spans = spans

    def earlier(self, size: int) -> str:
        """The ``size`` or so characters before :attr:`cut`, as Markdown that draws alone
        (a code block it starts inside is opened again); moves :attr:`cut` back."""
        text, end = self.text, self.cut
        start = max(0, end - size)
        if start > 0:
            blank = text.rfind("\n\n", max(0, start - _SLACK), start)
            line = text.rfind("\n", max(0, start - _SLACK), start)
            start = blank + 2 if blank >= 0 else line + 1 if line >= 0 else start
        self.cut = start
        part = text[start:end]
        span = self._span_at(start)
        return f"{span.fence}\n{part}" if span is not None else part

    def _span_at(self, offset: int) -> CodeSpan | None:
        if not self._spans:
            return None
        index = bisect_right(self._starts, offset) - 1
        if index < 0:
            return None
        span = self._spans[index]
        return span if span.body <= offset < span.end else None

    def row(self) -> Text:
        """The line above the shown part: how much is not shown, and how to show more."""
        if not self.ready:
            return Text(f"⋯ preparing a {size_text(len(self.text))} message…", style="dim italic")
        return Text(
            f"↑ {size_text(self.cut)} earlier in this message: press m (or click here) to "
            f"show {size_text(min(MORE, self.cut))} more; c copies all of it",
            style="dim italic",
        )
