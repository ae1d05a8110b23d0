"""The open conversations, one tab each."""

from __future__ import annotations

import itertools

from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import TabbedContent, TabPane

from llamachat.session import new_session
from llamachat.textsafety import one_line
from llamachat.tui.conversation.pane import ChatPane
from llamachat.workspace import Workspace


def tab_title(title: str) -> Content:
    """A tab's label: plain text (never markup), escaped, on one line, at most 24 cells."""
    return Content(one_line(title, 24) or "New chat")


def tab_for(pane: ChatPane, title: str) -> TabPane:
    """A tab holding ``pane``, labelled ``title``."""
    return TabPane(tab_title(title), pane, id=f"tab-{pane.id}")


class ConversationTabs(TabbedContent):
    """A tab per open conversation, each holding its :class:`ChatPane`."""

    def __init__(self, workspace: Workspace, background_jobs: set[int], *, id: str) -> None:
        super().__init__(id=id)
        self.workspace = workspace
        #: Queued replies the app fetches in the background (panes leave them alone).
        self.background_jobs = background_jobs
        self._pane_ids = itertools.count(1)

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
        """Every open pane, in tab order."""
        return list(self.query(ChatPane))

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
