"""The sidebar: conversations newest first, and full-text search with highlighted snippets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from llamachat.store.db import Store
from llamachat.store.models import MATCH_END, MATCH_START, ConversationSummary, SearchHit
from llamachat.textsafety import marked_pieces, one_line
from llamachat.tui.screens.dialogs import ConfirmScreen, InputScreen
from llamachat.tui.unsaved import told_if_refused
from llamachat.tui.when import when


def highlighted(snippet: str) -> Text:
    """A search snippet with its matches in reverse video; untrusted text stays text."""
    text = Text()
    for piece, match in marked_pieces(snippet, MATCH_START, MATCH_END):
        text.append(piece, style="reverse bold" if match else "")
    return text


#: Seconds of quiet in the search box before the search runs.
SEARCH_DELAY = 0.12


class ConversationList(OptionList):
    """The list itself; keys act on the highlighted conversation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "act('rename')", "Rename", id="sidebar.rename"),
        Binding("delete", "act('delete')", "Delete", id="sidebar.delete"),
        Binding("a", "act('archive')", "Archive", id="sidebar.archive"),
        Binding("p", "act('pin')", "Pin", id="sidebar.pin"),
        Binding("v", "app.toggle_archived", "Archived", id="sidebar.archived"),
    ]

    @dataclass
    class Act(Message):
        """Rename, delete, archive (or restore) or pin the highlighted conversation."""

        conversation_id: int
        action: str

    def action_act(self, action: str) -> None:
        option = self.highlighted_option
        if option is not None and option.id:
            self.post_message(self.Act(int(option.id.split(":")[0][1:]), action))


class Sidebar(Vertical):
    """Conversations and search."""

    DEFAULT_CSS = """
    Sidebar { width: 36; height: 1fr; border-right: vkey $panel; }
    Sidebar > Input { margin: 0; }
    Sidebar > ConversationList { height: 1fr; border: none; }
    """

    @dataclass
    class Open(Message):
        """Open a conversation, at a message when a search hit was picked."""

        conversation_id: int
        message_id: int | None = None

    @dataclass
    class Renamed(Message):
        """A conversation was renamed here."""

        conversation_id: int

    @dataclass
    class Delete(Message):
        """The person confirmed deleting a conversation (its tabs close first)."""

        conversation_id: int
        title: str

    def __init__(self, store: Store | None) -> None:
        super().__init__(id="sidebar")
        self.store = store
        self.search_box = Input(placeholder="Search all conversations…", id="search")
        self.items = ConversationList(id="conversations")
        self.searching = False
        self.showing_archived = False
        self._search_timer: Timer | None = None
        self._current: int | None = None  # the conversation open, shown in bold
        #: What the list shows, as (id, label, disabled) per row.
        self._shown: list[tuple[str | None, object, bool]] | None = None

    def compose(self) -> ComposeResult:
        yield self.search_box
        yield self.items

    def refresh_list(self, current: int | None, keep: int | None = None) -> None:
        """Read the conversation list again (unless a search is showing); ``current`` is
        the conversation open, ``keep`` the one to keep highlighted."""
        if self.store is None or self.searching:
            return
        rows = self.store.list_conversations(200, archived=self.showing_archived, pinned_first=True)
        self.show_conversations(rows, current, keep)

    def highlighted_conversation(self) -> int | None:
        """The conversation of the row highlighted in the list (not a search hit), if any."""
        items = self.items
        if items.highlighted is None:
            return None
        option_id = items.get_option_at_index(items.highlighted).id or ""
        return int(option_id[1:]) if option_id[1:].isdigit() else None

    def toggle_archived(self, current: int | None) -> None:
        """List archived conversations, or the others again."""
        self.display = True
        self.showing_archived = not self.showing_archived
        self.searching = False
        self.refresh_list(current)
        self.items.focus()

    def _search(self, query: str) -> None:
        if self.store is None:
            return
        if not query.strip():
            self.searching = False
            self.refresh_list(self._current)
            return
        self.show_results(self.store.search(query, 50))

    def on_conversation_list_act(self, event: ConversationList.Act) -> None:
        event.stop()
        with told_if_refused(self.app):  # archive and pin write to the store
            self._act(event.conversation_id, event.action)

    def _act(self, cid: int, action: str) -> None:
        store = self.store
        if store is None:
            return
        title = store.conversation(cid).title or "New chat"
        if action == "rename":

            def renamed(value: str | None) -> None:
                if value and value.strip():
                    with told_if_refused(self.app):
                        store.rename(cid, value)
                    self.post_message(self.Renamed(cid))
                    self.refresh_list(self._current, keep=cid)

            self.app.push_screen(InputScreen("New title", title), renamed)
        elif action == "delete":

            def deleted(confirmed: bool | None) -> None:
                if confirmed:
                    self.post_message(self.Delete(cid, title))

            question = f"Delete “{title}” and all its messages?"
            self.app.push_screen(ConfirmScreen(question), deleted)
        elif action == "archive":
            archive = not store.conversation(cid).archived
            store.set_archived(cid, archive)
            if archive:
                self.notify(f"Archived “{title}”: v in the sidebar lists archived conversations.")
            else:
                self.notify(f"Restored “{title}”.")
            self.refresh_list(self._current, keep=cid)
        elif action == "pin":
            store.set_pinned(cid, not store.conversation(cid).pinned)
            self.refresh_list(self._current, keep=cid)

    def show_conversations(
        self, rows: list[ConversationSummary], current: int | None, keep: int | None = None
    ) -> None:
        """List conversations (pinned first), highlighting ``keep`` (the one just acted on; if
        it is gone, the row now in its place) or else the current one.

        When :attr:`showing_archived`, ``rows`` are the archived ones, under a heading.
        """
        previous_row = self.items.highlighted
        self.searching = False
        self._current = current
        options = []
        if self.showing_archived:
            heading = "Archived · a restores · v: back" if rows else "Nothing archived · v: back"
            options.append(Option(Text(heading, style="dim italic"), disabled=True))
        for row in rows:
            label = Text(no_wrap=True, overflow="ellipsis")
            if row.pinned:
                label.append("📌 ")
            title = one_line(row.title or "New chat", 80)
            label.append(title, style="bold" if row.id == current else "")
            updated = when(row.updated_at, with_time=False)
            count = row.message_count
            label.append(f"\n{updated} · {count} msg{'' if count == 1 else 's'}", style="dim")
            if row.providers:
                names = ", ".join(one_line(name, 40) for name in row.providers)
                label.append(f" · {names}", style="dim")
            options.append(Option(label, id=f"c{row.id}"))
        if keep is not None:
            self._replace(options, f"c{keep}", previous_row)
        else:
            self._replace(options, f"c{current}" if current else None)

    def show_results(self, hits: list[SearchHit]) -> None:
        """List search hits with highlighted snippets."""
        self.searching = True
        options = []
        for hit in hits:
            label = Text(no_wrap=False)
            label.append(one_line(hit.title or "New chat", 60), style="bold")
            where = "title" if hit.message_id is None else (hit.role or "message")
            label.append(f"  {where}\n", style="dim")
            label.append_text(highlighted(hit.snippet))
            target = f"c{hit.conversation_id}:{hit.message_id or ''}"
            options.append(Option(label, id=target))
        if not options:
            options.append(Option(Text("Nothing matches.", style="dim"), disabled=True))
        self._replace(options, options[0].id)

    def _replace(
        self, options: list[Option], highlight: str | None, fallback_row: int | None = None
    ) -> None:
        shown: list[tuple[str | None, object, bool]]
        shown = [(option.id, option.prompt, option.disabled) for option in options]
        same = shown == self._shown
        if same:
            # The same rows (a start or a tab switch refreshes the list three times): kept, not
            # rebuilt and drawn again; scrolled as a rebuild scrolls, highlighted as below.
            self.items.scroll_y = 0
        else:
            self.items.clear_options()
            self.items.add_options(options)
            self._shown = shown
        before = self.items.highlighted
        rows = [i for i, option in enumerate(options) if option.id]  # not headings
        try:
            self.items.highlighted = self.items.get_option_index(highlight or "")
        except OptionDoesNotExist:
            if not rows:
                self.items.highlighted = None
            elif fallback_row is None:
                self.items.highlighted = rows[0]
            else:
                self.items.highlighted = next((i for i in rows if i >= fallback_row), rows[-1])
        now = self.items.highlighted
        if same and now is not None and now == before and not options[now].disabled:
            self.items.scroll_to_highlight()  # what setting it again after a rebuild does

    def on_input_changed(self, event: Input.Changed) -> None:
        """Search once typing pauses, not on every key (a flood of keys stays responsive)."""
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        query = event.value
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self._search(query))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.items.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        if not option_id.startswith("c"):
            return
        conversation, _, message = option_id[1:].partition(":")
        self.post_message(self.Open(int(conversation), int(message) if message else None))
