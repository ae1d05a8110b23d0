"""Changing the config file from the app: Settings, the theme, a broken file read again.

What the person wrote stays: only what changed is written into the file as it is now
(its comments and hand edits kept), and a file that could not be read is never written
over (saving then would replace the providers and keys in it with the defaults).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import App

from llamachat.config import Config, load_config
from llamachat.config_errors import ConfigError
from llamachat.config_write import save_changes
from llamachat.tui.conversation.pane import ChatPane
from llamachat.tui.unsaved import told_if_refused
from llamachat.workspace import Workspace


class ConfigKeeper:
    """Saves the app's changes to the config file and reads it again."""

    def __init__(self, app: App[Any], workspace: Workspace, error: str | None) -> None:
        self.app = app
        self.workspace = workspace
        #: Why the config file could not be read: it is never written over while this is set.
        self.error = error

    def reload(self) -> bool:
        """Read a config file that was broken again; ``True`` once it reads."""
        try:
            config = load_config(self.workspace.config.path)
        except ConfigError as error:
            self.error = str(error)
            return False
        self.error = None
        self._use(config)
        return True

    def _use(self, config: Config) -> None:
        for provider in self.workspace.reconfigure(config):
            self.app.run_worker(provider.aclose(), group="close-providers")

    def save(
        self, raw: Mapping[str, Any], before: Mapping[str, Any], *, quiet: bool = False
    ) -> bool:
        """Write what changed from ``before`` to ``raw`` into the config file as it is now,
        unless it was broken when ``raw`` was made from the defaults. ``quiet``: say nothing
        (a theme change)."""
        notify = self.app.notify
        if self.error is not None:
            if quiet:
                return False
            if self.reload():
                notify("The config file reads again: open Settings again to edit it.")
            else:
                notify(
                    f"Settings not saved: {self.error} Saving now would replace the "
                    "providers and keys in it with the defaults.",
                    severity="error",
                    timeout=15,
                )
            return False
        try:
            path = save_changes(before, raw, self.workspace.config.path)
            config = load_config(path)
        except (OSError, ConfigError) as error:
            notify(f"Settings not saved: {error}", severity="error")
            return False
        self._use(config)
        if not quiet:
            notify(f"Settings saved to {path}.")
        return True

    def save_theme(self, theme: str) -> None:
        """Remember the theme chosen (quietly: a broken file is left alone)."""
        config = self.workspace.config
        if theme != config.theme:
            raw = dict(config.raw)
            raw["theme"] = theme
            self.save(raw, config.raw, quiet=True)

    def open_settings(self, pane: ChatPane | None) -> None:
        """The settings screen, with ``pane``'s conversation's own settings in it."""
        from llamachat.tui.screens.settings import (
            ConversationSettings,
            SettingsResult,
            SettingsScreen,
        )

        app = self.app
        if self.error is not None and not self.reload():
            app.notify(
                f"{self.error} Until it is fixed, settings can be tried but not saved.",
                severity="warning",
                timeout=15,
            )
        conversation = None
        if pane is not None:
            session = pane.session
            conversation = ConversationSettings(
                session.system_prompt or "",
                session.params,
                session.context_overflow,
                session.persona,
            )

        def saved(result: SettingsResult | None) -> None:
            if result is None:
                return
            self.save(result.raw, result.before)
            # The conversation's own settings live in the store: they apply even when the
            # config file could not be written (a broken file is never written over).
            if result.conversation is not None and pane is not None:
                chosen = result.conversation.persona
                if chosen != pane.session.persona:  # its provider and model, if it names them
                    try:
                        with told_if_refused(app):
                            pane.session.choose_persona(chosen)
                    except ConfigError as error:
                        app.notify(str(error), severity="error")
                    pane.status_changed()
                with told_if_refused(app):
                    pane.session.apply_settings(
                        system_prompt=result.conversation.system_prompt,
                        params=result.conversation.params,
                        context_overflow=result.conversation.context_overflow,
                    )
                pane.update_meter()
            theme = self.workspace.config.theme
            if theme and theme in app.available_themes:
                app.theme = theme

        themes = sorted(app.available_themes)
        screen = SettingsScreen(self.workspace.config, themes, app.theme, conversation)
        app.push_screen(screen, saved)
