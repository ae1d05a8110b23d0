"""The command palette: every action, every conversation (with its date and providers),
every model; the themes are Textual's own "Theme" command (one, not two)."""

from __future__ import annotations

from collections.abc import Awaitable
from functools import partial
from typing import Any, Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from llamachat.store.models import ConversationSummary
from llamachat.textsafety import one_line
from llamachat.tui.when import when
from llamachat.workspace import Workspace


class PaletteHost(Protocol):
    """What the palette needs of the app it runs in."""

    workspace: Workspace

    def run_action(self, action: str) -> Awaitable[Any]: ...

    def open_conversation(self, conversation_id: int, message_id: int | None = None) -> None: ...

    def switch_model(self, provider: str, model: str) -> None: ...


ACTIONS: list[tuple[str, str, str]] = [
    ("New chat", "new_chat", "Start a new conversation in a new tab"),
    ("Switch provider or model", "pick_model", "Pick from every provider's models"),
    ("Search conversations", "search", "Full-text search over every message"),
    ("Export conversation", "export", "Markdown, HTML, JSON or text"),
    ("Settings", "settings", "Keys, base URLs, Segmind mode, defaults, theme"),
    ("Help: keys", "help", "Every key binding"),
    ("Toggle sidebar", "toggle_sidebar", "Show or hide the conversation list"),
    ("Archived conversations", "toggle_archived", "List archived conversations, or the others"),
    ("Regenerate last reply", "regenerate", "Keep the old reply as a branch"),
    ("Stop the reply", "stop", "Keep what arrived, marked interrupted"),
    ("Close tab", "close_tab", "Close the current conversation tab"),
    ("Copy selected text", "copy_selection", "As written: Markdown, code without decorations"),
    ("Save the last copy to a file", "save_copy", "For terminals that drop clipboard copies"),
]


class LlamaCommands(Provider):
    """Actions, open conversations by title, switch to a model."""

    @property
    def chat_app(self) -> PaletteHost:
        return cast(PaletteHost, self.app)

    def _candidates(self) -> list[tuple[str, object, str]]:
        app = self.chat_app
        items: list[tuple[str, object, str]] = [
            (name, partial(app.run_action, action), help_) for name, action, help_ in ACTIONS
        ]
        store = app.workspace.store
        if store is not None:
            for row in store.list_conversations(50, pinned_first=True):
                items.append(
                    (
                        f"Open: {one_line(row.title or 'New chat', 80)}",
                        partial(app.open_conversation, row.id),
                        _about(app.workspace, row),
                    )
                )
        for name in app.workspace.config.providers:
            try:
                provider = app.workspace.provider(name)
            except Exception:
                continue
            for model in provider.known_models():
                items.append(
                    (
                        f"Use {one_line(provider.display_name, 60)}: {one_line(model.id, 120)}",
                        partial(app.switch_model, name, model.id),
                        "from the next message on",
                    )
                )
        return items

    async def discover(self) -> Hits:
        for name, callback, help_ in self._candidates()[: len(ACTIONS)]:
            yield DiscoveryHit(name, callback, help=help_)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_ in self._candidates():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, _highlight(matcher, name), callback, text=name, help=help_)  # type: ignore[arg-type]


def _about(workspace: Workspace, row: ConversationSummary) -> str:
    """A conversation's line under its title: when it last moved, who answered, how long."""
    names = ", ".join(dict.fromkeys(workspace.display_name(p) for p in row.providers))
    count = f"{row.message_count:,} message{'s' if row.message_count != 1 else ''}"
    return " · ".join(part for part in (when(row.updated_at), one_line(names, 80), count) if part)


def _highlight(matcher: Matcher, name: str) -> Content:
    """``name`` as plain text (a title is never markup) with the matched letters styled."""
    content = Content(name)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, name)
    for offset in offsets:
        if not name[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
