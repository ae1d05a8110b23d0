"""The llamachat Textual application: sidebar, conversation tabs, status bar, modals.

The app owns the config, the store and the provider instances; panes do the
talking. I/O runs in workers; widgets talk through messages; styles live in
``app.tcss``; every action is in the command palette and the help screen.
"""

from __future__ import annotations

import gc
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from llamachat import locations
from llamachat.config import (
    Config,
)
from llamachat.store.db import Store
from llamachat.store.models import Message
from llamachat.textsafety import escape_label
from llamachat.tui.commands import LlamaCommands
from llamachat.tui.config_keeper import ConfigKeeper
from llamachat.tui.conversation.message import MessageView
from llamachat.tui.conversation.pane import ChatPane
from llamachat.tui.copying import Copying
from llamachat.tui.dialog_actions import DialogActions
from llamachat.tui.screens.main import MainScreen
from llamachat.tui.tabs import ConversationTabs, first_tabs
from llamachat.tui.themes import code_style, install_themes
from llamachat.tui.unsaved import told_if_refused
from llamachat.tui.welcome import has_any_key, welcome
from llamachat.tui.widgets.footer import KeyFooter
from llamachat.tui.widgets.sidebar import Sidebar
from llamachat.tui.widgets.status_bar import StatusBar
from llamachat.workspace import Workspace


class LlamaChatApp(Copying, DialogActions, App[None]):
    """Chat with Llama 3.1 through the provider you pay for."""

    TITLE = "llamachat"
    CSS_PATH = "app.tcss"
    COMMANDS: ClassVar = App.COMMANDS | {LlamaCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_chat", "New", id="app.new_chat"),
        Binding("ctrl+l", "pick_model", "Model", id="app.pick_model"),
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", show=False, id="app.toggle_sidebar"),
        Binding("ctrl+f", "search", "Search", id="app.search"),
        Binding("ctrl+t", "export", "Export", id="app.export"),
        Binding("ctrl+s", "settings", "Settings", id="app.settings"),
        Binding("alt+w", "close_tab", "Close tab", show=False, id="app.close_tab"),
        Binding("ctrl+pagedown", "next_tab", "Next tab", show=False, id="app.next_tab"),
        Binding("ctrl+pageup", "previous_tab", "Previous tab", show=False, id="app.previous_tab"),
        Binding("f1", "help", "Help", id="app.help"),
    ]

    def __init__(
        self,
        *,
        config: Config | None = None,
        store: Store | None = None,
        discover_local: bool = True,
    ) -> None:
        super().__init__()
        #: The config, the store and the live providers, shared by every conversation.
        self.workspace, self._problems, config_error = Workspace.start(config, store)
        self.workspace.keymap = self._checked_keymap()
        self.config_keeper = ConfigKeeper(self, self.workspace, config_error)
        self.discover_local = discover_local
        self._told: set[str] = set()
        #: The last run's other tabs, before and after the one composed with the app.
        self._reopen: tuple[list[int], list[int]] = ([], [])
        #: Queued replies being fetched by :meth:`resume_jobs`, not by a pane.
        self.background_jobs: set[int] = set()
        self.sidebar = Sidebar(self.workspace.store)
        self.tabs = ConversationTabs(self.workspace, self.background_jobs, id="tabs")
        self.status_bar = StatusBar()
        self._load_themes()  # before the CSS is first parsed: a theme set later re-parses it
        # What is imported and built so far lives for the session: out of the collector's
        # full passes from here, not from the first refresh (a pass over it at start took
        # 20-30 ms of the first paint).
        gc.freeze()

    def _checked_keymap(self) -> dict[str, str]:
        """The config's ``[keymap]`` in force: lines naming no binding, or taking a key
        another binding holds, are said and left out."""
        if not self.config.keymap:
            return {}  # nothing to check: the binding classes stay unimported at start
        from llamachat.tui.keys import check_keymap

        keymap, problems = check_keymap(self.config.keymap)
        self._problems.extend(problems)
        self.set_keymap(keymap)
        return keymap

    @property
    def config(self) -> Config:
        """The configuration in force."""
        return self.workspace.config

    @property
    def store(self) -> Store | None:
        """The conversation history (``None`` when it could not be opened)."""
        return self.workspace.store

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast. Notices quote titles, names and server text: always shown as plain,
        escaped text (every screen's and widget's ``notify`` comes here)."""
        super().notify(
            escape_label(message),
            title=escape_label(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    # --- layout ---------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        # Textual's auto focus would give the search box the focus before the prompt.
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        # The last conversation's tab is composed with the app, not added once it is
        # mounted: one layout and render of the whole screen fewer before the first paint.
        first, title = self._first_conversation()
        self._first = first
        self.tabs.start_with(self.tabs.new_pane(first), title)
        with Horizontal(id="main"):
            yield self.sidebar
            yield self.tabs
        yield self.status_bar
        yield KeyFooter()

    def _first_conversation(self) -> tuple[int | None, str]:
        """The conversation a start opens (the tab active when the last run ended, or the
        newest one, after recovering what an earlier run left unfinished), and its title."""
        store = self.store
        if store is None:
            return None, "New chat"
        with told_if_refused(self):  # a full disk: left for a start that can write
            store.recover()
        first, title, before, after = first_tabs(store)
        self._reopen = (before, after)
        return first, title

    def on_mount(self) -> None:
        first = self._first
        pane = self.active_pane
        if pane is not None:
            if pane.prompt.is_mounted:  # focused in the first frame, not a frame after it
                pane.prompt.focus()
            else:
                self._focus_prompt_soon(pane, opening=True)
            self._show_status(pane)
        self.refresh_sidebar()
        if any(self._reopen):  # the last run's other tabs, once the first screen is painted
            reopen = self.tabs.reopen(*self._reopen)
            self.call_after_refresh(lambda: self.run_worker(reopen, exit_on_error=False))
        for problem in self._problems:
            self.notify(problem, severity="warning", timeout=12)
        jobs = self.store.resumable_jobs(include_stopped=False) if self.store is not None else []
        if jobs:
            self.resume_jobs(jobs, first)
        if not has_any_key(self.config):
            self.call_after_refresh(welcome, self.tabs, self.store)
            if self.discover_local:
                self.find_local_servers()
        if self.store is not None:
            from llamachat.tui.external import INTERVAL, StoreWatcher

            self.set_interval(INTERVAL, StoreWatcher(self.store, self._changed_elsewhere).check)
        # What start-up built lives for the session: keep it out of the collector's full
        # passes, which otherwise stall streaming and tab opening by 100 ms and more; the
        # launcher keeps the collector off until the first screen is painted.
        self.call_after_refresh(_collect_from_now_on)

    # --- themes -------------------------------------------------------------------------

    def _load_themes(self) -> None:
        directories = [locations.builtin_themes_dir(), locations.user_themes_dir()]
        install_themes(self, directories, self.config.theme)
        self._theme_ready = True

    def watch_theme(self, theme: str) -> None:
        """Remember the theme in the config file; draw code in the theme's code style."""
        code_theme = self.code_theme
        for view in self.query(MessageView):
            view.set_code_theme(code_theme)
        if getattr(self, "_theme_ready", False):
            self.config_keeper.save_theme(theme)

    @property
    def code_theme(self) -> str:
        """The Pygments style for code blocks: the theme's own, or one for light or dark."""
        return code_style(self.current_theme)

    def tell_once(self, sentence: str) -> None:
        """A warning shown once a session (a parameter a provider does not take, say)."""
        if sentence not in self._told:
            self._told.add(sentence)
            self.notify(sentence, severity="warning", timeout=10)

    # --- panes and tabs -------------------------------------------------------------------

    @property
    def active_pane(self) -> ChatPane | None:
        """The pane of the active tab (``None`` while tabs are being built or torn down)."""
        return self.tabs.active_chat

    def panes(self) -> list[ChatPane]:
        """Every open pane."""
        return self.tabs.chats()

    def _add_tab(self, pane: ChatPane, title: str) -> None:
        self.tabs.add_chat(pane, title)
        self._focus_prompt_soon(pane, opening=True)

    def action_new_chat(self) -> None:
        """A new conversation in a new tab."""
        pane = self.tabs.new_pane(None)
        self._add_tab(pane, "New chat")
        self._show_status(pane)

    def open_conversation(self, conversation_id: int, message_id: int | None = None) -> None:
        """Show a conversation: its tab if open, else a new tab."""
        try:
            pane, opened = self.tabs.open_stored(conversation_id, message_id)
        except KeyError:
            self.notify(f"Conversation {conversation_id} no longer exists.", severity="warning")
            return
        if opened:
            self._focus_prompt_soon(pane, opening=True)
        elif message_id is None:
            pane.prompt.focus()

    def action_close_tab(self) -> None:
        """Close the current tab (its reply, if any, is stopped and kept)."""
        pane = self.active_pane
        if pane is None:
            return
        pane.save_draft()
        self.call_later(self._close_panes, [pane])

    async def _delete_conversation(self, conversation_id: int, title: str) -> None:
        """Close the conversation's tabs (stopping any reply), then delete it."""
        await self._close_panes([p for p in self.panes() if p.conversation_id == conversation_id])
        if self.store is not None:
            with told_if_refused(self):
                self.store.delete_conversation(conversation_id)
                self.notify(f"Deleted “{title}”.")
        self.refresh_sidebar(keep=conversation_id)

    async def _close_panes(self, panes: list[ChatPane]) -> None:
        """Remove these panes' tabs; a new chat takes the place of the last one."""
        await self.tabs.close_chats(panes)
        if not self.panes():
            self.action_new_chat()
        self.tabs.remember()

    def action_next_tab(self) -> None:
        self.tabs.cycle(1)

    def action_previous_tab(self) -> None:
        self.tabs.cycle(-1)

    def on_conversation_tabs_activated(self, event: ConversationTabs.Activated) -> None:
        self.tabs.remember()
        pane = self.active_pane
        if pane is not None:
            self._show_status(pane)
            self._focus_prompt_soon(pane)
            self.refresh_sidebar()

    def _focus_prompt_soon(self, pane: ChatPane, *, opening: bool = False) -> None:
        """Focus ``pane``'s prompt once it can take focus, unless the person is in the sidebar.

        A tab being ``opening`` from the sidebar (a conversation picked there) takes the
        focus; otherwise the sidebar keeps it, so Ctrl+F typed while a tab was still
        opening keeps the search box.
        """
        take_from_sidebar = opening and self._sidebar_has_focus()

        def focus(attempts: int = 50) -> None:
            if not pane.prompt.is_mounted and attempts:  # a loaded machine: not mounted yet
                self.call_after_refresh(focus, attempts - 1)
            elif not pane.prompt.has_focus and (take_from_sidebar or not self._sidebar_has_focus()):
                pane.prompt.focus()

        # ``Widget.focus`` is itself deferred: checking after the queue keeps the order of requests.
        (self.call_after_refresh if opening else self.call_later)(focus)

    def _sidebar_has_focus(self) -> bool:
        focused = self.focused
        return focused is not None and self.sidebar in focused.ancestors_with_self

    def on_chat_pane_status_changed(self, event: ChatPane.StatusChanged) -> None:
        if event.pane is self.active_pane:
            self._show_status(event.pane)

    def on_chat_pane_title_changed(self, event: ChatPane.TitleChanged) -> None:
        self.tabs.retitle(event.pane)
        self.tabs.remember()  # a new chat's first message gave it an id
        self.refresh_sidebar()

    def on_chat_pane_warning(self, event: ChatPane.Warning) -> None:
        self.tell_once(event.sentence)

    def _show_status(self, pane: ChatPane) -> None:
        pane.status.provider = self.workspace.display_name(pane.session.provider_name)
        pane.status.model = pane.session.model
        self.status_bar.show(pane.status, self.workspace.spent_usd)

    # --- sidebar --------------------------------------------------------------------------

    def refresh_sidebar(self, keep: int | None = None) -> None:
        """Reload the conversation list (unless a search is showing); ``keep`` stays highlighted."""
        pane = self.active_pane
        self.sidebar.refresh_list(pane.conversation_id if pane else None, keep)

    def _changed_elsewhere(self) -> None:
        """Another process wrote to the store: refresh the sidebar and the idle panes."""
        self.refresh_sidebar(keep=self.sidebar_highlighted())
        for pane in self.panes():
            pane.sync_with_store()

    def sidebar_highlighted(self) -> int | None:
        """The conversation highlighted in the sidebar while the person is in it."""
        return self.sidebar.highlighted_conversation() if self._sidebar_has_focus() else None

    def action_toggle_sidebar(self) -> None:
        """Show or hide the sidebar."""
        self.sidebar.display = not self.sidebar.display

    def action_toggle_archived(self) -> None:
        """List archived conversations in the sidebar, or the others again."""
        pane = self.active_pane
        self.sidebar.toggle_archived(pane.conversation_id if pane else None)

    def action_search(self) -> None:
        """Focus the search box."""
        self.sidebar.display = True
        self.sidebar.search_box.focus()

    def on_sidebar_open(self, event: Sidebar.Open) -> None:
        self.open_conversation(event.conversation_id, event.message_id)

    def on_sidebar_renamed(self, event: Sidebar.Renamed) -> None:
        pane = self.tabs.chat_for(event.conversation_id)
        if pane is not None and self.store is not None:
            pane.session.title = self.store.conversation(event.conversation_id).title
            self.tabs.retitle(pane)

    def on_sidebar_delete(self, event: Sidebar.Delete) -> None:
        self.call_later(self._delete_conversation, event.conversation_id, event.title)

    def action_regenerate(self) -> None:
        if self.active_pane is not None:
            self.active_pane.action_regenerate()

    def action_stop(self) -> None:
        if self.active_pane is not None:
            self.active_pane.action_stop()

    # --- background work ----------------------------------------------------------------------

    def resume_jobs(self, jobs: list[Message], shown: int | None) -> None:
        """Fetch the replies of queued ``jobs`` left by an earlier run, in the background
        (those of conversation ``shown``, open at start, are resumed live in its pane)."""
        from llamachat.tui.background import fetch_left_jobs

        assert self.store is not None
        fetching = fetch_left_jobs(
            self.workspace, self.tabs, jobs, shown, self.notify, self.refresh_sidebar
        )
        self.run_worker(fetching, group="resume-jobs", exit_on_error=False)

    def find_local_servers(self) -> None:
        """Look for a local OpenAI-compatible server and offer it."""
        from llamachat.tui.background import offer_local_servers

        finding = offer_local_servers(self.workspace, self.notify)
        self.run_worker(finding, group="discover", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Any worker that fails unexpectedly becomes one notification, never a traceback."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(
                f"Something went wrong ({type(error).__name__}: {error}); your text is kept.",
                severity="error",
                timeout=10,
            )

    # --- leaving ----------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Keep every draft, then quit."""
        for pane in self.panes():
            pane.save_draft()
        self.tabs.remember()
        await self.workspace.aclose()
        self.exit()


def _collect_from_now_on() -> None:
    """The first screen is painted: freeze what start-up built, and collect again."""
    gc.freeze()
    gc.enable()
