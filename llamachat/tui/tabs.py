"""The open conversations, one tab each: a one-line strip of titles over the active pane.

Textual's ``TabbedContent`` (tabs, an animated underline, a content switcher and a pane
wrapper per tab) cost about a third of the work before the first paint; a conversation tab
needs a title to click and a pane to show, so this is that and no more.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget

from llamachat import ui_state
from llamachat.session import new_session
from llamachat.store.db import Store
from llamachat.textsafety import one_line
from llamachat.tui.conversation.pane import ChatPane
from llamachat.workspace import Workspace

#: Between two titles on the strip.
SEPARATOR = " │ "


def tab_title(title: str) -> str:
    """A tab's label: plain text (never markup), on one line, at most 24 cells."""
    return one_line(title, 24) or "New chat"


def first_tabs(store: Store) -> tuple[int | None, str, list[int], list[int]]:
    """The conversation a start shows first, its title, and the last run's other tabs
    before and after it: the tab active when it ended, or (none kept, or deleted since)
    the newest conversation."""
    saved = ui_state.load()
    tabs = list(saved.tabs)
    first = saved.active if saved.active in tabs else (tabs[-1] if tabs else None)
    try:
        title = store.conversation(first).title if first is not None else None
    except KeyError:
        first = None
    if first is None:
        first = store.latest_conversation_id()
        if first is None:
            return None, "New chat", [], []
        title = store.conversation(first).title
    index = tabs.index(first) if first in tabs else len(tabs)
    return first, title or "New chat", tabs[:index], tabs[index + 1 :]


class TabStrip(Widget):
    """One line naming the open conversations; the active one stands out; a click picks one."""

    DEFAULT_CSS = """
    TabStrip { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    """

    @dataclass
    class Picked(Message):
        """The person clicked the title of tab ``index``."""

        index: int

    def __init__(self) -> None:
        super().__init__(id="tab-strip")
        self.titles: list[str] = []
        self.active = 0
        self._spans: list[tuple[int, int, int]] = []  # (start, end, tab index) drawn

    def show(self, titles: list[str], active: int) -> None:
        """Name these tabs, ``active`` standing out."""
        self.titles, self.active = titles, active
        self.refresh()

    def render(self) -> Content:
        width = max(self.size.width, 1)
        first = 0  # the first title drawn: later ones go first when the active one would not fit
        while first < self.active and self._width(first, self.active + 1) > width:
            first += 1
        parts: list[tuple[str, str] | str] = ["… " if first else ""]
        x, self._spans = len(parts[0]), []
        for index in range(first, len(self.titles)):
            if index > first:
                parts.append(SEPARATOR)
                x += len(SEPARATOR)
            title = f" {self.titles[index]} "
            style = "bold reverse" if index == self.active else ""
            parts.append((title, style))
            self._spans.append((x, x + len(title), index))
            x += len(title)
        return Content.assemble(*parts)

    def _width(self, first: int, last: int) -> int:
        titles = self.titles[first:last]
        return sum(len(t) + 2 for t in titles) + len(SEPARATOR) * (len(titles) - 1) + 2

    def on_click(self, event: events.Click) -> None:
        x = event.x - self.styles.padding.left
        for start, end, index in self._spans:
            if start <= x < end:
                self.post_message(self.Picked(index))


class ConversationTabs(Vertical):
    """A tab per open conversation, each holding its :class:`ChatPane`; one shown at a time."""

    DEFAULT_CSS = """
    ConversationTabs > ChatPane { height: 1fr; }
    """

    @dataclass
    class Activated(Message):
        """Another tab became the active one (not sent for the tab a start opens)."""

        pane: ChatPane

    def __init__(self, workspace: Workspace, background_jobs: set[int], *, id: str) -> None:
        super().__init__(id=id)
        self.workspace = workspace
        #: Queued replies the app fetches in the background (panes leave them alone).
        self.background_jobs = background_jobs
        self._pane_ids = itertools.count(1)
        self.strip = TabStrip()
        self._titles: dict[str, str] = {}
        self._active: ChatPane | None = None
        self._first: ChatPane | None = None
        #: Reopening the last run's tabs: what is open is not the whole list yet.
        self.reopening = False

    def new_pane(self, conversation_id: int | None) -> ChatPane:
        """A pane for a new conversation, or for stored one ``conversation_id``."""
        return ChatPane(
            new_session(self.workspace, conversation_id),
            pane_id=f"pane-{next(self._pane_ids)}",
            background_jobs=self.background_jobs,
        )

    def start_with(self, pane: ChatPane, title: str) -> None:
        """The tab a start opens, composed with the app (one layout fewer before the paint)."""
        self._first = self._active = pane
        self._titles[pane.id or ""] = tab_title(title)

    def compose(self) -> ComposeResult:
        yield self.strip
        if self._first is not None:
            yield self._first

    def on_mount(self) -> None:
        self._show_strip()

    @property
    def active_chat(self) -> ChatPane | None:
        """The pane of the active tab (``None`` before the first one is made)."""
        return self._active

    def chats(self) -> list[ChatPane]:
        """Every open pane, in tab order."""
        return list(self.query_children(ChatPane))

    def chat_for(self, conversation_id: int) -> ChatPane | None:
        """The open pane of conversation ``conversation_id``, if it is open."""
        return next((p for p in self.chats() if p.conversation_id == conversation_id), None)

    def title_of(self, pane: ChatPane) -> str:
        """The label on ``pane``'s tab."""
        return self._titles.get(pane.id or "", "")

    def add_chat(self, pane: ChatPane, title: str) -> None:
        """Open ``pane`` in a new tab, and make it the active one."""
        self._titles[pane.id or ""] = tab_title(title)
        pane.display = False  # shown by ``show`` below, in the same refresh
        self.mount(pane)
        self.show(pane)

    def show(self, pane: ChatPane) -> None:
        """Make ``pane``'s tab the active one."""
        if pane is self._active and pane.display:
            return
        for chat in self.chats():
            chat.display = chat is pane
        self._active = pane
        self._show_strip()
        self.post_message(self.Activated(pane))

    def open_stored(
        self, conversation_id: int, message_id: int | None = None
    ) -> tuple[ChatPane, bool]:
        """Show stored conversation ``conversation_id`` (at ``message_id``, if given): its
        open tab, else a new one. Returns its pane, and whether the tab is new.

        Raises:
            KeyError: the conversation no longer exists.
        """
        pane = self.chat_for(conversation_id)
        if pane is not None:
            self.show(pane)
            if message_id is not None:
                pane.load(conversation_id, at_message=message_id)
            return pane, False
        store = self.workspace.store
        title = store.conversation(conversation_id).title if store is not None else None
        pane = self.new_pane(conversation_id)
        self.add_chat(pane, title or "New chat")
        if message_id is not None:
            self.call_after_refresh(lambda: pane.load(conversation_id, at_message=message_id))
        return pane, True

    async def close_chats(self, panes: list[ChatPane]) -> None:
        """Remove these panes' tabs (their replies stop, what arrived is kept); the tab
        beside the active one takes its place."""
        chats = self.chats()
        if self._active in panes:
            index = chats.index(self._active)
            left = [c for c in chats if c not in panes]
            after = [c for c in chats[index:] if c not in panes]
            self._active = after[0] if after else (left[-1] if left else None)
        for pane in panes:
            self._titles.pop(pane.id or "", None)
            await pane.remove()
        if self._active is not None:
            active, self._active = self._active, None
            self.show(active)
        self._show_strip()

    def cycle(self, step: int) -> None:
        """Activate the tab ``step`` places on (wrapping around)."""
        chats = self.chats()
        if self._active in chats and len(chats) > 1:
            self.show(chats[(chats.index(self._active) + step) % len(chats)])

    def retitle(self, pane: ChatPane) -> None:
        """Show ``pane``'s title on its tab."""
        self._titles[pane.id or ""] = tab_title(pane.title)
        self._show_strip()

    def on_tab_strip_picked(self, event: TabStrip.Picked) -> None:
        event.stop()
        chats = self.chats()
        if event.index < len(chats):
            self.show(chats[event.index])

    def _show_strip(self) -> None:
        chats = self.chats() or ([self._first] if self._first is not None else [])
        active = chats.index(self._active) if self._active in chats else 0
        self.strip.show([self.title_of(c) for c in chats], active)

    def remember(self) -> None:
        """Keep the open conversations' tabs, in order, and the active one, for the next
        start (a new chat with nothing stored yet is left out)."""
        if self.reopening:
            return
        active = self.active_chat
        ids = [p.conversation_id for p in self.chats() if p.conversation_id is not None]
        ui_state.update(tabs=tuple(ids), active=active.conversation_id if active else None)

    async def reopen(self, before: list[int], after: list[int]) -> None:
        """Open the last run's other tabs around the one composed with the app (after the
        first paint, so they cost it nothing), in the background; deleted ones are skipped."""
        store = self.workspace.store
        first = self._first
        if store is None or first is None:
            return
        self.reopening = True
        try:
            last = first
            for conversation_id, place in [(c, "before") for c in before] + [
                (c, "after") for c in after
            ]:
                if not self.is_attached or self.chat_for(conversation_id) is not None:
                    continue
                try:
                    title = store.conversation(conversation_id).title
                except KeyError:
                    continue  # deleted since
                pane = self.new_pane(conversation_id)
                self._titles[pane.id or ""] = tab_title(title or "New chat")
                pane.display = False
                if place == "before":
                    await self.mount(pane, before=first)
                else:
                    await self.mount(pane, after=last)
                    last = pane
                self._show_strip()
        finally:
            self.reopening = False
        self.remember()
