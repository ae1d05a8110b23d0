"""The llamachat Textual application: sidebar, conversation tabs, status bar, modals.

The app owns the config, the store and the provider instances; panes do the
talking. I/O runs in workers; widgets talk through messages; styles live in
``app.tcss``; every action is in the command palette and the help screen.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from llamachat import locations
from llamachat.adhoc import is_adhoc
from llamachat.config import (
    Config,
    ConfigError,
    ProviderSettings,
    config_defaults,
    configured_params,
    default_provider_name,
    load_config,
)
from llamachat.config_write import save_changes
from llamachat.context.policy import ContextRules
from llamachat.params import describe_params
from llamachat.providers.base import GenerationParams, Provider
from llamachat.providers.presets import LABELS, PRESET_MODELS
from llamachat.providers.registry import build_provider
from llamachat.resolve import provider_settings
from llamachat.store.db import Store, StoreError
from llamachat.store.models import Message
from llamachat.textsafety import escape_label, one_line
from llamachat.tui.commands import LlamaCommands
from llamachat.tui.screens.breakpoints import BreakpointScreen
from llamachat.tui.screens.dialogs import ConfirmScreen, DetailsScreen, InputScreen
from llamachat.tui.themes import code_style, load_themes, set_theme_before_start
from llamachat.tui.unsaved import told_if_refused
from llamachat.tui.widgets.chat_pane import ChatPane
from llamachat.tui.widgets.footer import KeyFooter
from llamachat.tui.widgets.message import MessageView
from llamachat.tui.widgets.sidebar import ConversationList, Sidebar
from llamachat.tui.widgets.status_bar import StatusBar

KEYLESS_HINT = (
    "Welcome to llamachat. No provider key was found, so you are talking to the offline demo.\n"
    "To use Llama 3.1 for real, set one of these and restart, or add a key in Settings (Ctrl+S):\n"
    "  DeepInfra: DEEPINFRA_API_KEY   ·   E2E Networks TIR: E2E_TIR_ACCESS_TOKEN and "
    "E2E_TIR_PROJECT_ID   ·   Segmind: SEGMIND_API_KEY\n"
    "Ctrl+L switches provider and model · F1 lists every key."
)


class MainScreen(BreakpointScreen[None]):
    """The screen under every modal: conversations, tabs, status bar and footer."""

    AUTO_FOCUS = ""  # the app focuses the open tab's prompt itself
    #: Under 90 columns the sidebar starts hidden (Ctrl+B or Ctrl+F shows it).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (90, "-wide")]  # noqa: RUF012 (as Textual declares it)


class LlamaChatApp(App[None]):
    """Chat with Llama 3.1 through the provider you pay for."""

    TITLE = "llamachat"
    CSS_PATH = "app.tcss"
    COMMANDS: ClassVar = App.COMMANDS | {LlamaCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_chat", "New"),
        Binding("ctrl+l", "pick_model", "Model"),
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", show=False),
        Binding("ctrl+f", "search", "Search"),
        Binding("ctrl+t", "export", "Export"),
        Binding("ctrl+s", "settings", "Settings"),
        Binding("alt+w", "close_tab", "Close tab", show=False),
        Binding("ctrl+pagedown", "next_tab", "Next tab", show=False),
        Binding("ctrl+pageup", "previous_tab", "Previous tab", show=False),
        Binding("f1", "help", "Help"),
    ]

    def __init__(
        self,
        *,
        config: Config | None = None,
        store: Store | None = None,
        discover_local: bool = True,
    ) -> None:
        super().__init__()
        self._problems: list[str] = []
        #: Why the config file could not be read: it is never written over while this is set.
        self._config_error: str | None = None
        if config is None:
            try:
                config = load_config()
            except ConfigError as error:
                self._problems.append(f"{error} Using the built-in defaults for now.")
                self._config_error = str(error)
                config = config_defaults()
        self.config = config
        self._problems.extend(config.warnings)
        if store is None:
            try:
                store = Store.open_default()
            except StoreError as error:
                self._problems.append(f"{error} Conversations will not be saved this session.")
        self.store = store
        self.discover_local = discover_local
        self._providers: dict[str, Provider] = {}
        self._told: set[str] = set()
        self._pane_ids = itertools.count(1)
        #: Queued replies being fetched by :meth:`resume_jobs`, not by a pane.
        self.background_jobs: set[int] = set()
        self.session_cost = 0.0
        self.sidebar = Sidebar()
        self.tabs = TabbedContent(id="tabs")
        self.status_bar = StatusBar()
        self._load_themes()  # before the CSS is first parsed: a theme set later re-parses it
        # What is imported and built so far lives for the session: out of the collector's
        # full passes from here, not from the first refresh (a pass over it at start took
        # 20-30 ms of the first paint).
        gc.freeze()

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
        with Horizontal(id="main"):
            yield self.sidebar
            yield self.tabs
        yield self.status_bar
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.store is not None:
            with told_if_refused(self):  # a full disk: left for a start that can write
                self.store.recover()
        first = self.store.latest_conversation_id() if self.store is not None else None
        self.open_conversation(first) if first is not None else self.action_new_chat()
        self.refresh_sidebar()
        for problem in self._problems:
            self.notify(problem, severity="warning", timeout=12)
        jobs = self.store.resumable_jobs(include_stopped=False) if self.store is not None else []
        if jobs:
            self.resume_jobs(jobs, first)
        if not self._any_key():
            self.call_after_refresh(self._welcome)
            if self.discover_local:
                self.find_local_servers()
        if self.store is not None:
            from llamachat.tui.external import INTERVAL, StoreWatcher

            self.set_interval(INTERVAL, StoreWatcher(self, self.store).check)
        # What start-up built lives for the session: keep it out of the collector's full
        # passes, which otherwise stall streaming and tab opening by 100 ms and more.
        self.call_after_refresh(gc.freeze)

    def _any_key(self) -> bool:
        return (
            any(
                settings.kind in ("deepinfra", "e2e", "segmind") and settings.key()[0] is not None
                for settings in self.config.providers.values()
            )
            or self.config.path.exists()
        )

    def _welcome(self, attempts: int = 50) -> None:
        """The keyless hint, in a chat with nothing in it yet (asked of the store: the pane
        may not have loaded its messages when this runs; on a loaded machine its tab may
        not even be mounted yet, so this tries again after the next refreshes)."""
        pane = self.active_pane
        if pane is None and attempts > 0:
            self.call_after_refresh(self._welcome, attempts - 1)
            return
        if pane is None or pane._path:
            return
        if pane.conversation_id is not None and self.store is not None:
            with contextlib.suppress(KeyError):
                if self.store.conversation(pane.conversation_id).active_leaf_id is not None:
                    return
        pane.show_notice(KEYLESS_HINT)

    # --- themes -------------------------------------------------------------------------

    def _load_themes(self) -> None:
        themes, problems = load_themes(
            [locations.builtin_themes_dir(), locations.user_themes_dir()]
        )
        for theme in themes:
            self.register_theme(theme)
        if problems:
            self.notify(
                "Some theme files were skipped: " + "; ".join(problems) + ".",
                severity="warning",
                timeout=12,
            )
        wanted = self.config.theme or "llama-night"
        if wanted in self.available_themes:
            set_theme_before_start(self, wanted)
        else:
            self.notify(
                f"The theme '{wanted}' is not available; using llama-night.", severity="warning"
            )
            fallback = "llama-night" if "llama-night" in self.available_themes else "textual-dark"
            set_theme_before_start(self, fallback)
        self._theme_ready = True

    def watch_theme(self, theme: str) -> None:
        """Remember the theme in the config file; draw code in the theme's code style."""
        code_theme = self.code_theme
        for view in self.query(MessageView):
            view.set_code_theme(code_theme)
        if getattr(self, "_theme_ready", False) and theme != self.config.theme:
            raw = dict(self.config.raw)
            raw["theme"] = theme
            self._save_raw(raw, self.config.raw, quiet=True)

    @property
    def code_theme(self) -> str:
        """The Pygments style for code blocks: the theme's own, or one for light or dark."""
        return code_style(self.current_theme)

    # --- config and providers -----------------------------------------------------------

    def _save_raw(
        self, raw: Mapping[str, Any], before: Mapping[str, Any], *, quiet: bool = False
    ) -> bool:
        """Write what changed from ``before`` to ``raw`` into the config file as it is now (its
        comments, formatting and anything added by hand are kept), unless it was broken when
        ``raw`` was made from the defaults (writing then could replace what the person set up)."""
        if self._config_error is not None:
            if quiet:
                return False
            if self._reload_config():
                self.notify("The config file reads again: open Settings again to edit it.")
            else:
                self.notify(
                    f"Settings not saved: {self._config_error} Saving now would replace the "
                    "providers and keys in it with the defaults.",
                    severity="error",
                    timeout=15,
                )
            return False
        try:
            path = save_changes(before, raw, self.config.path)
            self.config = load_config(path)
        except (OSError, ConfigError) as error:
            self.notify(f"Settings not saved: {error}", severity="error")
            return False
        for provider in self._providers.values():
            self.run_worker(provider.aclose(), group="close-providers")
        self._providers.clear()
        if not quiet:
            self.notify(f"Settings saved to {path}.")
        return True

    def provider_settings(self, name: str) -> ProviderSettings:
        """The settings of provider ``name`` (``ConfigError`` if there is none)."""
        # A conversation `ask --base-url` made names its server's URL: no configured key.
        if is_adhoc(name):
            return provider_settings(self.config, None, base_url=name)
        return self.config.provider(name)

    def get_provider(self, name: str) -> Provider:
        """The live provider called ``name`` (built on first use)."""
        provider = self._providers.get(name)
        if provider is None:
            provider = build_provider(self.provider_settings(name), self.config.network)
            self._providers[name] = provider
        return provider

    def context_rules(self, name: str, model: str, policy: str | None = None) -> ContextRules:
        """How a request to ``model`` on provider ``name`` is fitted into its window
        (``policy``: the conversation's own, over the config's)."""
        from llamachat.context.settings import context_rules

        settings = self.provider_settings(name)
        return context_rules(self.config, settings, self.get_provider(name), model, policy)

    def display_name(self, name: str | None) -> str:
        """A provider's human name."""
        if not name:
            return "assistant"
        if name in self._providers:
            return self._providers[name].display_name
        settings = self.config.providers.get(name)
        if settings is None:
            return name
        return settings.display_name or LABELS.get(settings.kind, name)

    def default_params(self, provider: str | None) -> GenerationParams:
        """Generation defaults from the config for ``provider`` (its own table wins)."""
        return configured_params(self.config, provider)

    def tell_once(self, sentence: str) -> None:
        """A warning shown once a session (a parameter a provider does not take, say)."""
        if sentence not in self._told:
            self._told.add(sentence)
            self.notify(sentence, severity="warning", timeout=10)

    def add_session_cost(self, cost: float) -> None:
        """Money spent in this session, shown in the status bar."""
        self.session_cost += cost

    # --- panes and tabs -------------------------------------------------------------------

    @property
    def active_pane(self) -> ChatPane | None:
        """The pane of the active tab (``None`` while tabs are being built or torn down)."""
        try:
            pane = self.tabs.active_pane
        except NoMatches:
            return None
        if pane is None:
            return None
        found = pane.query(ChatPane)
        return found.first() if found else None

    def panes(self) -> list[ChatPane]:
        """Every open pane."""
        return list(self.query(ChatPane))

    def _new_pane(self, conversation_id: int | None) -> ChatPane:
        name = default_provider_name(self.config)
        settings = self.config.providers.get(name)
        if settings is None:
            name, settings = "demo", self.config.providers["demo"]
        # The model is read from the settings and presets: building the provider here would
        # import httpx before the first paint.
        presets = PRESET_MODELS.get(settings.kind, ())
        model = (
            settings.default_model
            or (self.config.default_model if name == self.config.default_provider else None)
            or (settings.models[0] if settings.models else None)
            or (presets[0].id if presets else None)
            or self.get_provider(name).default_model()
            or ""
        )
        pane_id = f"pane-{next(self._pane_ids)}"
        return ChatPane(
            conversation_id=conversation_id,
            provider=name,
            model=model,
            params=self.default_params(name),
            system_prompt=self.config.defaults.system_prompt,
            pane_id=pane_id,
        )

    def _add_tab(self, pane: ChatPane, title: str) -> None:
        tab = TabPane(_tab_title(title), pane, id=f"tab-{pane.id}")
        self.tabs.add_pane(tab)
        self.tabs.active = tab.id or ""
        self._focus_prompt_soon(pane, opening=True)

    def action_new_chat(self) -> None:
        """A new conversation in a new tab."""
        pane = self._new_pane(None)
        self._add_tab(pane, "New chat")
        self._show_status(pane)

    def open_conversation(self, conversation_id: int, message_id: int | None = None) -> None:
        """Show a conversation: its tab if open, else a new tab."""
        for pane in self.panes():
            if pane.conversation_id == conversation_id:
                self.tabs.active = f"tab-{pane.id}"
                if message_id is not None:
                    pane.load(conversation_id, at_message=message_id)
                else:
                    pane.prompt.focus()
                return
        pane = self._new_pane(conversation_id)
        title = "Chat"
        if self.store is not None:
            try:
                title = self.store.conversation(conversation_id).title or "New chat"
            except KeyError:
                self.notify(f"Conversation {conversation_id} no longer exists.", severity="warning")
                return
        self._add_tab(pane, title)
        if message_id is not None:
            self.call_after_refresh(lambda: pane.load(conversation_id, at_message=message_id))

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
        for pane in panes:
            await self.tabs.remove_pane(f"tab-{pane.id}")
        if not self.panes():
            self.action_new_chat()

    def action_next_tab(self) -> None:
        self._cycle_tab(1)

    def action_previous_tab(self) -> None:
        self._cycle_tab(-1)

    def _cycle_tab(self, step: int) -> None:
        ids = [f"tab-{p.id}" for p in self.panes()]
        if self.tabs.active in ids and len(ids) > 1:
            self.tabs.active = ids[(ids.index(self.tabs.active) + step) % len(ids)]

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
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

        def focus() -> None:
            if take_from_sidebar or not self._sidebar_has_focus():
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
        tab = self.tabs.get_tab(f"tab-{event.pane.id}")
        tab.label = _tab_title(event.pane.title)
        self.refresh_sidebar()

    def _show_status(self, pane: ChatPane) -> None:
        pane.status.provider = self.display_name(pane.provider_name)
        pane.status.model = pane.model
        self.status_bar.show(pane.status, self.session_cost)

    # --- sidebar --------------------------------------------------------------------------

    def refresh_sidebar(self, keep: int | None = None) -> None:
        """Reload the conversation list (unless a search is showing); ``keep`` stays highlighted."""
        if self.store is None or self.sidebar.searching:
            return
        pane = self.active_pane
        archived = self.sidebar.showing_archived
        self.sidebar.show_conversations(
            self.store.list_conversations(200, archived=archived, pinned_first=True),
            pane.conversation_id if pane else None,
            keep,
        )

    def sidebar_highlighted(self) -> int | None:
        """The conversation highlighted in the sidebar while the person is in it."""
        items = self.sidebar.items
        if not self._sidebar_has_focus() or items.highlighted is None:
            return None
        option_id = items.get_option_at_index(items.highlighted).id or ""
        return int(option_id[1:]) if option_id[1:].isdigit() else None

    def action_toggle_sidebar(self) -> None:
        """Show or hide the sidebar."""
        self.sidebar.display = not self.sidebar.display

    def action_toggle_archived(self) -> None:
        """List archived conversations in the sidebar, or the others again."""
        self.sidebar.display = True
        self.sidebar.showing_archived = not self.sidebar.showing_archived
        self.sidebar.searching = False
        self.refresh_sidebar()
        self.sidebar.items.focus()

    def action_search(self) -> None:
        """Focus the search box."""
        self.sidebar.display = True
        self.sidebar.search_box.focus()

    def on_sidebar_search(self, event: Sidebar.Search) -> None:
        if self.store is None:
            return
        if not event.query.strip():
            self.sidebar.searching = False
            self.refresh_sidebar()
            return
        self.sidebar.show_results(self.store.search(event.query, 50))

    def on_sidebar_open(self, event: Sidebar.Open) -> None:
        self.open_conversation(event.conversation_id, event.message_id)

    def on_conversation_list_act(self, event: ConversationList.Act) -> None:
        with told_if_refused(self):  # archive and pin write to the store
            self._act(event)

    def _act(self, event: ConversationList.Act) -> None:
        store = self.store
        if store is None:
            return
        cid = event.conversation_id
        title = store.conversation(cid).title or "New chat"
        if event.action == "rename":

            def renamed(value: str | None) -> None:
                if value and value.strip():
                    with told_if_refused(self):
                        store.rename(cid, value)
                    for pane in self.panes():
                        if pane.conversation_id == cid:
                            pane.title = store.conversation(cid).title
                            self.on_chat_pane_title_changed(ChatPane.TitleChanged(pane))
                    self.refresh_sidebar(keep=cid)

            self.push_screen(InputScreen("New title", title), renamed)
        elif event.action == "delete":

            def deleted(confirmed: bool | None) -> None:
                if confirmed:
                    self.call_later(self._delete_conversation, cid, title)

            self.push_screen(ConfirmScreen(f"Delete “{title}” and all its messages?"), deleted)
        elif event.action == "archive":
            archive = not store.conversation(cid).archived
            store.set_archived(cid, archive)
            if archive:
                self.notify(f"Archived “{title}”: v in the sidebar lists archived conversations.")
            else:
                self.notify(f"Restored “{title}”.")
            self.refresh_sidebar(keep=cid)
        elif event.action == "pin":
            pinned = store.conversation(cid).pinned
            store.set_pinned(cid, not pinned)
            self.refresh_sidebar(keep=cid)

    # --- modals -----------------------------------------------------------------------------

    def action_pick_model(self) -> None:
        """Pick another provider and model for the current conversation."""
        from llamachat.tui.screens.picker import PickerScreen, ProviderEntry

        pane = self.active_pane
        if pane is None:
            return
        entries = []
        for name in self.config.providers:
            try:
                entries.append(ProviderEntry(name, self.get_provider(name)))
            except ConfigError:
                continue

        def picked(choice: tuple[str, str] | None) -> None:
            if choice is not None:
                self.switch_model(*choice)

        self.push_screen(PickerScreen(entries, (pane.provider_name, pane.model)), picked)

    def switch_model(self, provider: str, model: str) -> None:
        """Use ``provider``/``model`` in the current conversation from its next message."""
        pane = self.active_pane
        if pane is not None:
            pane.switch_model(provider, model)
            self.notify(f"Now using {self.display_name(provider)} · {model}.")

    def _reload_config(self) -> bool:
        """Read a config file that was broken again; ``True`` once it reads."""
        try:
            self.config = load_config(self.config.path)
        except ConfigError as error:
            self._config_error = str(error)
            return False
        self._config_error = None
        self._providers.clear()
        return True

    def action_settings(self) -> None:
        """Open the settings screen."""
        from llamachat.tui.screens.settings import (
            ConversationSettings,
            SettingsResult,
            SettingsScreen,
        )

        if self._config_error is not None and not self._reload_config():
            self.notify(
                f"{self._config_error} Until it is fixed, settings can be tried but not saved.",
                severity="warning",
                timeout=15,
            )

        pane = self.active_pane
        conversation = None
        if pane is not None:
            conversation = ConversationSettings(
                pane.system_prompt or "", pane.params, pane.context_overflow
            )

        def saved(result: SettingsResult | None) -> None:
            if result is None:
                return
            saved_ok = self._save_raw(result.raw, result.before)
            if saved_ok and result.conversation is not None and pane is not None:
                self._apply_conversation_settings(pane, result.conversation)
            if self.config.theme and self.config.theme in self.available_themes:
                self.theme = self.config.theme

        self.push_screen(
            SettingsScreen(self.config, sorted(self.available_themes), self.theme, conversation),
            saved,
        )

    def _apply_conversation_settings(self, pane: ChatPane, values: Any) -> None:
        pane.params = values.params
        pane.system_prompt = values.system_prompt or None
        pane.context_overflow = values.context_overflow
        if self.store is not None and pane.conversation_id is not None:
            with told_if_refused(self):
                self.store.update_settings(
                    pane.conversation_id,
                    system_prompt=pane.system_prompt,
                    params=pane.stored_params(),
                )
        pane.update_meter()

    def action_help(self) -> None:
        """Show every key binding."""
        from llamachat.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_export(self) -> None:
        """Export the open conversation to a file."""
        from llamachat.tui.screens.export import ExportScreen

        pane = self.active_pane
        if pane is None or pane.conversation_id is None or self.store is None:
            self.notify("Nothing to export yet: send a message first.", severity="warning")
            return
        conversation_id = pane.conversation_id

        def chosen(choice: tuple[str, Path] | None) -> None:
            if choice is not None:
                self.export_to(conversation_id, *choice)

        self.push_screen(ExportScreen(pane.title), chosen)

    def export_to(self, conversation_id: int, fmt: str, path: Path) -> None:
        """Write the export and say where it went."""
        from llamachat.store.export import export

        assert self.store is not None
        try:
            text = export(self.store.load(conversation_id), fmt)
            path.parent.mkdir(parents=True, exist_ok=True)
            locations.write_private(path, text)
        except OSError as error:
            self.notify(f"Could not write {path}: {error.strerror}.", severity="error")
            return
        self.notify(f"Exported to {path}")

    def action_regenerate(self) -> None:
        if self.active_pane is not None:
            self.active_pane.action_regenerate()

    def action_stop(self) -> None:
        if self.active_pane is not None:
            self.active_pane.action_stop()

    def show_details(self, message: Message) -> None:
        """The full details of a failed reply, and the parameters a reply was made with."""
        details = message.error_detail or message.error or ""
        made_with = describe_params(message.params) if message.role == "assistant" else ""
        text = "\n\n".join(t for t in (details, made_with) if t) or "No details were recorded."
        self.push_screen(DetailsScreen("What went wrong" if details else "Details", text))

    def ask_image_path(self, pane: ChatPane) -> None:
        """Ask for the path or https URL of an image to attach."""

        def chosen(path: str | None) -> None:
            if path is not None and path.strip():
                pane.attach_image(path.strip())
            elif path is not None and pane.attachments:
                pane.clear_attachments()

        question = "Path or https:// URL of the image to send"
        if pane.attachments:
            question += " (empty: remove the attached images)"
        self.push_screen(
            InputScreen(question, placeholder="~/photo.png or https://…/photo.png"), chosen
        )

    # --- background work ----------------------------------------------------------------------

    @work(group="resume-jobs", exit_on_error=False)
    async def resume_jobs(self, jobs: list[Message], shown: int | None) -> None:
        """Fetch the replies of queued ``jobs`` left by an earlier run, in the background.

        The jobs of conversation ``shown`` (open at start) are resumed by its pane, with
        their status live and Esc to stop them; jobs a person stopped wait to be asked for.
        """
        from llamachat.jobs import resume_one

        assert self.store is not None
        for message in jobs:
            if message.conversation_id == shown or any(
                pane.conversation_id == message.conversation_id for pane in self.panes()
            ):
                continue
            self.background_jobs.add(message.id)
            try:
                outcome = await resume_one(self.store, self.config, message)
            finally:
                self.background_jobs.discard(message.id)
            for pane in self.panes():
                if pane.conversation_id == message.conversation_id and not pane.busy:
                    pane.rebuild()
            self.notify(f"Queued job {message.job_id}: {outcome}")
        self.refresh_sidebar()

    @work(group="discover", exit_on_error=False)
    async def find_local_servers(self) -> None:
        """Look for a local OpenAI-compatible server and offer it."""
        from llamachat.discovery import discover

        for server in await discover():
            name = "local" if server.port == 8080 else server.label.lower().replace(" ", "-")
            settings = ProviderSettings(
                name=name,
                kind="openai",
                display_name=f"{server.label} (local)",
                base_url=server.base_url,
                models=server.models,
                default_model=server.models[0] if server.models else None,
            )
            providers = dict(self.config.providers)
            providers[name] = settings
            self.config = replace(self.config, providers=providers)
            self._providers.pop(name, None)
            models = f" with {len(server.models)} models" if server.models else ""
            self.notify(
                f"Found {server.label} at {server.base_url}{models}: press Ctrl+L to use it.",
                timeout=10,
            )

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
        for provider in self._providers.values():
            await provider.aclose()
        self.exit()


def _tab_title(title: str) -> Content:
    """A tab's label: plain text (never markup), escaped, on one line, at most 24 cells."""
    return Content(one_line(title, 24) or "New chat")
