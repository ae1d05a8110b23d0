"""The open conversations, one tab each (kept for the next start: see :mod:`llamachat.ui_state`)."""

from __future__ import annotations

import itertools

from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import Tab, TabbedContent, TabPane

from llamachat import ui_state
from llamachat.session import new_session
from llamachat.store.db import Store
from llamachat.textsafety import one_line
from llamachat.tui.conversation.pane import ChatPane
from llamachat.workspace import Workspace


def tab_title(title: str) -> Content:
    """A tab's label: plain text (never markup), escaped, on one line, at most 24 cells."""
    return Content(one_line(title, 24) or "New chat")


def tab_for(pane: ChatPane, title: str) -> TabPane:
    """A tab holding ``pane``, labelled ``title``."""
    return TabPane(tab_title(title), pane, id=f"tab-{pane.id}")


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


class ConversationTabs(TabbedContent):
    """A tab per open conversation, each holding its :class:`ChatPane`."""

    def __init__(self, workspace: Workspace, background_jobs: set[int], *, id: str) -> None:
        super().__init__(id=id)
        self.workspace = workspace
        #: Queued replies the app fetches in the background (panes leave them alone).
        self.background_jobs = background_jobs
        self._pane_ids = itertools.count(1)
        #: Reopening the last run's tabs: what is open is not the whole list yet.
        self.reopening = False

    def new_pane(self, conversation_id: int | None) -> ChatPane:
        """A pane for a new conversation, or for stored one ``conversation_id``."""
        return ChatPane(
            new_session(self.workspace, conversation_id),
            pane_id=f"pane-{next(self._pane_ids)}",
            background_jobs=self.background_jobs,
        )

    @property
    def active_chat(self) -> ChatPane | None:
        """The pane of the active tab (``None`` while tabs are being built or torn down)."""
        try:
            tab = self.active_pane
        except NoMatches:
            return None
        if tab is None:
            return None
        found = tab.query(ChatPane)
        return found.first() if found else None

    def chats(self) -> list[ChatPane]:
        """Every open pane, in the order of the tabs (a tab added before another is
        mounted after it: the order of the panes is not the tabs')."""
        panes = {f"tab-{pane.id}": pane for pane in self.query(ChatPane)}
        ordered = []
        for tab in self.query(Tab):  # ids are Textual's prefix + the TabPane's id
            tab_id = tab.id or ""
            pane = next((p for key, p in panes.items() if tab_id.endswith(key)), None)
            if pane is not None and pane not in ordered:
                ordered.append(pane)
        return ordered + [pane for pane in panes.values() if pane not in ordered]

    def chat_for(self, conversation_id: int) -> ChatPane | None:
        """The open pane of conversation ``conversation_id``, if it is open."""
        return next((p for p in self.chats() if p.conversation_id == conversation_id), None)

    def add_chat(self, pane: ChatPane, title: str) -> None:
        """Open ``pane`` in a new tab, and make it the active one."""
        tab = tab_for(pane, title)
        self.add_pane(tab)
        self.active = tab.id or ""

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
            self.active = f"tab-{pane.id}"
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
        """Remove these panes' tabs (their replies stop, what arrived is kept)."""
        for pane in panes:
            await self.remove_pane(f"tab-{pane.id}")

    def cycle(self, step: int) -> None:
        """Activate the tab ``step`` places on (wrapping around)."""
        ids = [f"tab-{p.id}" for p in self.chats()]
        if self.active in ids and len(ids) > 1:
            self.active = ids[(ids.index(self.active) + step) % len(ids)]

    def retitle(self, pane: ChatPane) -> None:
        """Show ``pane``'s title on its tab."""
        self.get_tab(f"tab-{pane.id}").label = tab_title(pane.title)

    def remember(self) -> None:
        """Keep the open conversations' tabs, in order, and the active one, for the next
        start (a new chat with nothing stored yet is left out)."""
        if self.reopening:
            return
        active = self.active_chat
        ids = [p.conversation_id for p in self.chats() if p.conversation_id is not None]
        ui_state.update(tabs=tuple(ids), active=active.conversation_id if active else None)

    async def reopen(self, first: str, before: list[int], after: list[int]) -> None:
        """Open the last run's other tabs around tab ``first``, composed with the app
        (after the first paint, so they cost it nothing); deleted ones are skipped."""
        store = self.workspace.store
        if store is None:
            return
        self.reopening = True
        added: list[str] = []
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
                tab = tab_for(self.new_pane(conversation_id), title or "New chat")
                if place == "before":
                    await self.add_pane(tab, before=first)
                else:
                    await self.add_pane(tab, after=last)
                    last = tab.id or last
                added.append(tab.id or "")
        finally:
            self.reopening = False
        if self.active in added or not self.active:  # taken by a tab added before it settled
            self.active = first
        self.remember()
