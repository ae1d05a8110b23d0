"""The app's dialogs: the model picker, Settings, help and export, on the open conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llamachat.tui.config_keeper import ConfigKeeper
from llamachat.workspace import Workspace

if TYPE_CHECKING:
    from textual.app import App

    from llamachat.store.db import Store
    from llamachat.tui.conversation.pane import ChatPane


class DialogActions:
    """Actions that open a dialog about the active conversation (mixed into the app)."""

    workspace: Workspace
    config_keeper: ConfigKeeper

    if TYPE_CHECKING:

        @property
        def active_pane(self) -> ChatPane | None: ...

        @property
        def store(self) -> Store | None: ...

    def _app(self) -> App[None]:
        return self  # type: ignore[return-value]  # mixed into LlamaChatApp

    def action_pick_model(self) -> None:
        """Pick another provider and model for the current conversation."""
        from llamachat.tui.screens.picker import pick_model

        pane = self.active_pane
        if pane is not None:
            current = (pane.session.provider_name, pane.session.model)
            pick_model(
                self._app(),
                self.workspace,
                current,
                self.switch_model,
                pane.session.persona,
                self.choose_persona,
            )

    def switch_model(self, provider: str, model: str) -> None:
        """Use ``provider``/``model`` in the current conversation from its next message."""
        pane = self.active_pane
        if pane is not None:
            pane.switch_model(provider, model)
            self._app().notify(f"Now using {self.workspace.display_name(provider)} · {model}.")

    def choose_persona(self, name: str | None) -> None:
        """Answer as persona ``name`` (``None``: none) in the current conversation."""
        from llamachat.config_errors import ConfigError
        from llamachat.tui.unsaved import told_if_refused

        pane = self.active_pane
        if pane is None:
            return
        try:
            with told_if_refused(self._app()):  # used from now on, kept when there is room
                pane.session.choose_persona(name)
        except ConfigError as error:
            self._app().notify(str(error), severity="error")
            return
        pane.status_changed()
        pane.refresh_credits()
        pane.update_meter()  # another system prompt, maybe another model
        shown = f"the persona {name}" if name else "no persona"
        where = self.workspace.display_name(pane.session.provider_name)
        self._app().notify(f"Now using {shown} · {where} · {pane.session.model}.")

    def action_settings(self) -> None:
        """Open the settings screen."""
        self.config_keeper.open_settings(self.active_pane)

    def action_help(self) -> None:
        """Show every key binding."""
        from llamachat.tui.screens.help import HelpScreen

        self._app().push_screen(HelpScreen(self.workspace.keymap))

    def action_export(self) -> None:
        """Export the open conversation to a file."""
        from llamachat.tui.screens.export import export_conversation

        pane = self.active_pane
        if pane is None or pane.conversation_id is None or self.store is None:
            self._app().notify("Nothing to export yet: send a message first.", severity="warning")
            return
        export_conversation(self._app(), self.store, pane.conversation_id, pane.title)
