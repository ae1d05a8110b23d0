"""The scrolling list of a conversation's messages, mounted a window at a time.

A long conversation mounts its newest messages first (more if they do not fill the
screen); older ones are mounted a batch at a time as scrolling up reaches the top,
and read from the store (through the session) when the ones read run out. The list
follows a stream until the person scrolls up, and keeps the message being read in
place when a resize rewraps every line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message as TextualMessage
from textual.widget import Widget

from llamachat.session import ChatSession
from llamachat.store.models import Message, MessageStatus, Totals
from llamachat.tui.conversation.earlier import EarlierRow
from llamachat.tui.conversation.message import MessageView
from llamachat.tui.copying import copy_text

#: Messages mounted when a conversation opens (more if they do not fill the screen);
#: older ones load, a batch at a time, as you scroll up.
WINDOW = 8
BATCH = 20
#: Messages read from the store at a time: a conversation of a million messages opens with
#: its newest ones, and older ones are read as scrolling up reaches the first one read.
LOAD = 200
#: Messages Home mounts at once at the top; the rest follow below them in doubling batches.
FIRST = 50


class MessageList(VerticalScroll):
    """The messages of the branch shown; it follows a stream until you scroll up."""

    DEFAULT_CSS = """
    MessageList { height: 1fr; padding: 0 1; scrollbar-gutter: stable; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # On a focused message (or the list): vi-like steps, and the two ends.
        Binding("end,G", "newest", "Newest", id="messages.newest"),
        Binding("home,g", "first", "First", show=False, id="messages.first"),
        Binding("j", "step(1)", "Next message", show=False, id="messages.next"),
        Binding("k", "step(-1)", "Previous message", show=False, id="messages.previous"),
    ]

    @dataclass
    class NearTop(TextualMessage):
        """Scrolled to the top: time to mount older messages."""

    @dataclass
    class Counted(TextualMessage):
        """A long branch was counted: the session's totals are whole."""

    def __init__(
        self, session: ChatSession, make_view: Callable[[Message], MessageView], *, id: str
    ) -> None:
        self.earlier = EarlierRow(id="earlier")
        self.earlier.display = False
        super().__init__(self.earlier, id=id)
        self.session = session
        self._make_view = make_view
        #: The views mounted, by message id.
        self.views: dict[int, MessageView] = {}
        #: The index in the session's path of the first message mounted.
        self.first_mounted = 0
        #: Mounting older messages to fill the screen: scrolling near the top loads nothing.
        self.filling = False
        #: Where the end was when the person scrolled up from it: the last child then and
        #: its height then (reaching that point again follows the stream, however fast).
        self._left_end: tuple[Widget, int] | None = None

    @property
    def following(self) -> bool:
        """Whether the view keeps to the end (until the person scrolls up to read)."""
        return self.is_anchored and not self._anchor_released  # Textual keeps no public flag

    # --- mounting ------------------------------------------------------------------

    def open(
        self, conversation_id: int, at_message: int | None, then: Callable[[], None] | None
    ) -> None:
        """Read and show a stored conversation's newest messages (as far back as
        ``at_message``, a search hit, on its branch); a long branch is counted in a thread."""
        session = self.session
        last = LOAD
        if at_message is not None:
            distance = session.distance_to(conversation_id, at_message)
            last = LOAD if distance is None else max(LOAD, distance + WINDOW)
        session.open(conversation_id, last=last)
        self.show(at_message, then)
        if session.earlier is None:
            self.run_worker(self._count_path, thread=True, group="count", exclusive=True)

    def _count_path(self) -> None:
        """In a thread: count a long branch's messages and tokens (a million take seconds)."""
        counted = self.session.path_totals()
        if counted is not None:
            self.app.call_from_thread(self._counted, self.session.conversation_id, *counted)

    def _counted(
        self, conversation_id: int | None, leaf: int | None, length: int, totals: Totals
    ) -> None:
        if conversation_id == self.session.conversation_id and self.session.counted(
            leaf, length, totals
        ):
            self.update_earlier()
            self.post_message(self.Counted())

    def show(self, at_message: int | None = None, then: Callable[[], None] | None = None) -> None:
        """Mount the newest messages of the session's path (from ``at_message``, a search
        hit, which gets the focus), replacing what was shown; ``then`` runs once laid out."""
        path = self.session.path
        start = max(0, len(path) - WINDOW)
        if at_message is not None:
            index = next((i for i, m in enumerate(path) if m.id == at_message), None)
            if index is None:  # switched to its branch and read up to it: gone since
                at_message = None
            else:
                start = min(start, max(0, index - 5))
        self.query(MessageView).remove()
        self.views.clear()
        self.first_mounted = start
        self.update_earlier()
        self.mount_all([self.view_for(m) for m in path[start:]])
        if at_message is not None and at_message in self.views:
            target = self.views[at_message]
            self.call_after_refresh(lambda: self.focus_message(target))
        else:
            self.call_after_refresh(self._fill_screen)
        if then is not None:
            self.call_after_refresh(then)

    def on_message_view_action(self, event: MessageView.Action) -> None:
        """Copying and details; the actions that change the conversation go on to the pane."""
        view = event.view
        if event.action == "copy":  # while it streams, what has arrived so far
            text = view.text or view.message.content
            if not text:
                self.notify("Nothing to copy yet: no text has arrived.")
            else:
                copy_text(self.app, text, "The reply so far" if view.streaming else "Message")
        elif event.action == "copy_code":
            blocks, number = view.code_blocks, event.argument
            if 1 <= number <= len(blocks):
                copy_text(self.app, blocks[number - 1].code, f"Code block {number}")
            else:
                self.notify(f"This message has no code block {number}.", severity="warning")
        elif event.action == "details":
            from llamachat.tui.screens.dialogs import show_details

            show_details(self.app, view.message)
        else:
            return
        event.stop()

    def view_for(self, message: Message) -> MessageView:
        """A view of ``message``, known by its id."""
        view = self._make_view(message)
        self.views[message.id] = view
        return view

    def append(self, message: Message) -> MessageView:
        """Add ``message`` at the end of the path and the view (following it if following)."""
        self.session.path.append(message)
        view = self.view_for(message)
        self.mount(view)
        if self.is_anchored:
            self.scroll_end(animate=False)
        return view

    def focus_message(self, target: MessageView) -> None:
        """Put ``target`` at the top and give it the focus."""
        self.scroll_to_widget(target, animate=False, top=True)
        target.focus()

    def _fill_screen(self, attempts: int = 20) -> None:
        """Mount older messages until the view can scroll (so scrolling up can load more)."""
        mounted = list(self.views.values())
        if attempts and any(not view.size.height for view in mounted):
            self.call_after_refresh(self._fill_screen, attempts - 1)  # not laid out yet
            return
        filled = sum(view.outer_size.height for view in mounted) > self.size.height
        if (self.first_mounted > 0 or self.session.earlier != 0) and not filled:
            self.filling = True
            self._mount_earlier(keep_position=False)
            self.call_after_refresh(self._fill_screen, attempts)
        else:
            self.filling = False
            if self.following:  # not when the person already scrolled up to read
                # At once: a deferred scroll would land after a Home pressed meanwhile.
                self.scroll_end(animate=False, immediate=True)

    def update_earlier(self) -> None:
        """Say how many older messages are not mounted yet (hidden when there are none)."""
        earlier = self.session.earlier
        count = "" if earlier is None else f"{self.first_mounted + earlier:,} "
        self.earlier.update(Text(f"↑ {count}earlier messages: scroll up or click to load them"))
        self.earlier.display = self.first_mounted > 0 or earlier != 0

    def on_message_list_near_top(self, event: NearTop) -> None:
        event.stop()
        if not self.filling:
            self.action_load_earlier()

    def on_earlier_row_pressed(self, event: EarlierRow.Pressed) -> None:
        event.stop()
        self.action_load_earlier()

    def action_load_earlier(self) -> None:
        """Mount the next batch of older messages, keeping the reading position."""
        self._mount_earlier(keep_position=True)

    def _mount_earlier(self, *, keep_position: bool) -> None:
        if self.first_mounted <= 0:
            self.first_mounted += self.session.read_earlier(LOAD)
        if self.first_mounted <= 0:
            return
        path = self.session.path
        start = max(0, self.first_mounted - BATCH)
        batch = [self.view_for(m) for m in path[start : self.first_mounted]]
        anchor = self.views.get(path[self.first_mounted].id)
        self.first_mounted = start
        self.mount_all(batch, after=self.earlier)
        self.update_earlier()
        if anchor is not None and keep_position:
            self.call_after_refresh(lambda: self.scroll_to_widget(anchor, animate=False, top=True))

    # --- moving around ------------------------------------------------------------------

    def follow(self) -> None:
        """Show the newest output and follow the stream again."""
        self._left_end = None
        self.scroll_end(animate=False, immediate=True)  # clears Textual's released anchor

    def release_anchor(self) -> None:
        """Stop following; remember where the end was, to follow again on reaching it."""
        if self.following:
            children = [child for child in self.children if child.display]
            if children:
                last = children[-1]
                self._left_end = (last, last.virtual_region_with_margin.height)
        super().release_anchor()

    def _reached_the_end(self, y: float) -> bool:
        """Whether scrolling down to ``y`` reached the end: the end now, or, while a reply
        streams faster than one pages, the end as it was when the person scrolled up
        (else the bottom moves on before each page lands, and they chase it for ever)."""
        if not self.is_anchored or self.following:
            return False
        if y >= self.max_scroll_y:
            return True
        left = self._left_end
        if left is None or not self._streaming() or left[0].parent is not self:
            return False
        child, height_then = left
        end_then = child.virtual_region_with_margin.y + height_then
        grown = self.virtual_size.height - end_then
        return grown > 0 and y >= self.max_scroll_y - grown

    def _streaming(self) -> bool:
        path = self.session.path
        view = self.views.get(path[-1].id) if path else None
        return view is not None and view.message.status is MessageStatus.STREAMING

    def action_newest(self) -> None:
        """Jump to the newest output and follow it (the last message takes a message's focus)."""
        if isinstance(self.app.focused, MessageView) and self.app.focused.parent is self:
            shown = self._in_order()
            if shown:
                shown[-1].focus(scroll_visible=False)
        self.follow()

    def action_first(self) -> None:
        """Go to the first message: every older one is read from the store in one query,
        and mounted below the first ones shown at once in batches that double (a few
        layouts in all, not one per batch of twenty: linear work, and the screen stays
        live while thousands are mounted)."""
        if self.session.earlier != 0:
            self.first_mounted += self.session.read_earlier(sys.maxsize)
        path, count = self.session.path, self.first_mounted
        shown = self._in_order()
        self.first_mounted = 0
        now = FIRST if shown else count
        if count:
            self.mount_all([self.view_for(m) for m in path[: min(now, count)]], after=self.earlier)
        if count > now:
            self.call_after_refresh(self._mount_between, now, count, shown[0], now * 2)
        self.update_earlier()
        focus = isinstance(self.app.focused, MessageView) and self.app.focused.parent is self

        def go() -> None:
            self.scroll_home(animate=False, immediate=True)
            if focus and path and path[0].id in self.views:
                self.views[path[0].id].focus(scroll_visible=False)

        self.call_after_refresh(go)

    def _mount_between(self, start: int, stop: int, below: Widget, size: int) -> None:
        """Mount the path's messages ``start:stop`` above ``below``, ``size`` of them now."""
        if below.parent is not self:
            return  # shown again meanwhile (a branch switch, a reload)
        end = min(stop, start + size)
        self.mount_all([self.view_for(m) for m in self.session.path[start:end]], before=below)
        if end < stop:
            self.call_after_refresh(self._mount_between, end, stop, below, size * 2)

    def action_step(self, step: int) -> None:
        """Focus the next (``step`` 1) or the previous (-1) message; stepping up from the
        first one mounted mounts the next batch of older ones."""
        focused = self.app.focused
        if not isinstance(focused, MessageView) or focused.parent is not self:
            return
        shown = self._in_order()
        index = shown.index(focused) + step
        if index < 0 and (self.first_mounted > 0 or self.session.earlier != 0):
            self.action_load_earlier()
            shown = self._in_order()
            index = shown.index(focused) + step
        if 0 <= index < len(shown):
            shown[index].focus()

    def _in_order(self) -> list[MessageView]:
        """The message views mounted, top to bottom."""
        return [child for child in self.children if isinstance(child, MessageView)]

    # --- keeping the reading position --------------------------------------------------

    #: Where the person is reading when scrolled up: the child at the top, how far
    #: into it (a fraction of its height), and the width this was measured at.
    _reading: tuple[Widget, float, int] | None = None

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value:
            self.post_message(self.NearTop())
        if new_value > old_value and self._reached_the_end(new_value):
            self.follow()
            return
        if self._reading is not None and self._reading[2] != self.size.width:
            # Mid-resize: the rewrap moved the end to the view, not the person (Textual
            # would follow the stream again); the place kept is restored after the resize.
            if self.following:
                self.release_anchor()
            return
        self._note_reading()

    def _note_reading(self) -> None:
        self._reading = None
        if self.following:
            return
        y = round(self.scroll_y)
        for child in self.children:
            region = child.virtual_region_with_margin
            if child.display and region.y <= y < region.bottom:
                self._reading = (child, (y - region.y) / max(1, region.height), self.size.width)
                return

    def on_resize(self) -> None:
        """Rewrapped text moves every line: keep the message being read at the top."""
        reading = self._reading
        if reading is None or self.following or reading[2] == self.size.width:
            return

        def restore() -> None:
            child, fraction, _ = reading
            if child.parent is self and not self.following:
                region = child.virtual_region_with_margin
                y = region.y + round(fraction * region.height)
                self.scroll_to(y=y, animate=False, immediate=True)
            self._note_reading()

        self.call_after_refresh(restore)
