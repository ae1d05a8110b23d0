"""Settings, built from each provider's option declarations.

Keys are shown masked, never whole. What is saved goes to ``config.toml``
atomically (mode 0600). "Test connection" lists the models with the values on
screen, saved or not, and times the round trip. The fields are made in
:mod:`~llamachat.tui.screens.settings_fields` and read back into config tables
in :mod:`~llamachat.tui.screens.settings_values`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TabbedContent, TabPane, TextArea

from llamachat.config import Config, NetworkSettings, parse_config
from llamachat.config_errors import ConfigError
from llamachat.config_write import toml_text
from llamachat.context.policy import Overflow
from llamachat.numbers import dollars
from llamachat.params import PARAM_SPECS, parse_param
from llamachat.providers.base import GenerationParams
from llamachat.providers.errors import ProviderError
from llamachat.providers.presets import LABELS
from llamachat.providers.registry import build_provider, option_specs
from llamachat.textsafety import one_line
from llamachat.tui.screens.settings_fields import field_id, input_text, option_widget, param_fields
from llamachat.tui.screens.settings_values import NUMBER_FIELDS, parse_number, put, store_option


@dataclass
class ConversationSettings:
    """The per-conversation overrides shown in the settings screen."""

    system_prompt: str
    params: GenerationParams
    #: This conversation's context_overflow policy; ``None``: the config's.
    context_overflow: str | None = None
    #: The persona it answers as; ``None``: none.
    persona: str | None = None


@dataclass
class SettingsResult:
    """What the settings screen hands back."""

    raw: dict[str, Any]
    conversation: ConversationSettings | None
    #: The config the screen started from: only what differs from it is written.
    before: Mapping[str, Any] = field(default_factory=dict)


class SettingsScreen(ModalScreen[SettingsResult | None]):
    """Every setting, one tab per provider."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel"),
        Binding("ctrl+s", "save", "Save", id="settings.save"),
        Binding("ctrl+t", "test_connection", "Test connection", id="settings.test_connection"),
    ]

    def __init__(
        self,
        config: Config,
        themes: list[str],
        current_theme: str,
        conversation: ConversationSettings | None,
    ) -> None:
        super().__init__(classes="dialog")
        self.config = config
        self.themes = themes
        self.current_theme = current_theme
        self.conversation = conversation
        #: Whether another persona was chosen on screen (its values then fill the fields).
        self._persona_touched = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box wide tall"):
            yield Label(Text(f"Settings — saved to {self.config.path}", style="bold"))
            with TabbedContent(id="settings-tabs"):
                with TabPane("General", id="tab-general"):
                    yield from self._general()
                if self.conversation is not None:
                    with TabPane("This conversation", id="tab-conversation"):
                        yield from self._conversation()
                for name, settings in self.config.providers.items():
                    # Plain text: a name or display name is not markup.
                    with TabPane(Content(settings.display_name or name), id=f"tab-{name}"):
                        yield from self._provider(name, settings.kind)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (Ctrl+S)", variant="primary", id="save")
                yield Button("Cancel (Esc)", id="cancel")

    def _general(self) -> ComposeResult:
        defaults = self.config.defaults
        network = self.config.network
        with VerticalScroll():
            yield Label("Default provider (used for new chats)")
            yield Select(
                [(name, name) for name in self.config.providers],
                value=self.config.default_provider or Select.NULL,
                id="general--default_provider",
                allow_blank=True,
            )
            yield Label("Theme")
            yield Select(
                [(name, name) for name in self.themes],
                value=self.current_theme if self.current_theme in self.themes else Select.NULL,
                id="general--theme",
            )
            yield Label("Default system prompt")
            yield TextArea(
                defaults.system_prompt or "", id="general--system_prompt", classes="short"
            )
            yield from param_fields("general", "Default", defaults.params)
            yield Label("Connect timeout (s)")
            yield Input(
                input_text(network.connect_timeout), id="general--connect_timeout", type="number"
            )
            yield Label("Longest gap between chunks of a reply (s)")
            yield Input(input_text(network.read_timeout), id="general--read_timeout", type="number")

    def _conversation(self) -> ComposeResult:
        assert self.conversation is not None
        with VerticalScroll():
            yield Label(
                Text("Persona")
                + Text(" — fills the system prompt and parameters below", style="dim")
            )
            yield Select(
                self._persona_choices(),
                value=self.conversation.persona or "",
                allow_blank=False,
                id="conv--persona",
            )
            yield Label("System prompt for this conversation")
            yield TextArea(
                self.conversation.system_prompt, id="conv--system_prompt", classes="short"
            )
            yield from param_fields("conv", "This conversation's", self.conversation.params)
            yield Label("When this conversation outgrows the model's context window")
            choices = [("as configured", "")] + [
                (policy.value, policy.value) for policy in Overflow
            ]
            yield Select(
                choices,
                value=self.conversation.context_overflow or "",
                allow_blank=False,
                id="conv--context_overflow",
            )

    def _persona_choices(self) -> list[tuple[Text, str]]:
        """The persona menu: none, each configured one, and the conversation's own if it
        is no longer in the config (kept unless another is chosen). Plain text, one line."""
        choices = [(Text("no persona"), "")]
        for persona in self.config.personas.values():
            about = f" — {persona.description}" if persona.description else ""
            choices.append((Text(one_line(f"{persona.name}{about}", 100)), persona.name))
        current = self.conversation.persona if self.conversation else None
        if current and current not in self.config.personas:
            label = f"{one_line(current, 40)} (no longer in the config file)"
            choices.append((Text(label), current))
        return choices

    def on_select_changed(self, event: Select.Changed) -> None:
        """Another persona chosen: its system prompt and parameters fill the fields."""
        if event.select.id != "conv--persona" or self.conversation is None:
            return
        name = "" if event.value is Select.NULL else str(event.value)
        if name == (self.conversation.persona or "") and not self._persona_touched:
            return  # the persona shown at first: the fields already hold its values
        self._persona_touched = True
        persona = self.config.personas.get(name)
        prompt = persona.system_prompt if persona else self.config.defaults.system_prompt
        self.query_one("#conv--system_prompt", TextArea).text = prompt or ""
        for key, value in (persona.params.values() if persona else {}).items():
            widget = self.query_one(f"#conv--{key}")
            if isinstance(widget, TextArea):
                widget.text = "\n".join(value)
            elif isinstance(widget, Select):
                widget.value = value
            elif isinstance(widget, Input):
                widget.value = input_text(value)

    def _provider(self, name: str, kind: str) -> ComposeResult:
        settings = self.config.providers[name]
        provider = build_provider(settings, self.config.network)
        with VerticalScroll():
            heading = Text(provider.display_name, style="bold")
            heading.append(f"  {LABELS.get(kind, kind)} · [providers.{name}]", style="dim")
            yield Label(heading)
            for spec in option_specs(kind):
                yield Label(Text(spec.label) + Text(f" — {spec.help}", style="dim"))
                yield option_widget(name, spec, settings, provider)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Test connection (Ctrl+T)", id=f"test--{name}")
            yield Static(id=f"result--{name}", classes="test-result")

    # --- collecting -----------------------------------------------------------------

    def _value(self, widget_id: str) -> str:
        widget = self.query_one(f"#{widget_id}")
        if isinstance(widget, Input):
            return widget.value.strip()
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        return ""

    def collect(self) -> dict[str, Any]:
        """The config as it would be saved, from the values on screen."""
        raw: dict[str, Any] = copy.deepcopy(dict(self.config.raw))
        shown_at_open = {
            "default_provider": self.config.default_provider,
            "theme": self.current_theme,
        }
        for key in ("default_provider", "theme"):
            value = self._value(f"general--{key}")
            if not value:
                raw.pop(key, None)
            elif key in raw or value != shown_at_open[key]:  # the built-in theme is not copied
                raw[key] = value
        defaults = dict(raw.get("defaults", {}))
        put(defaults, "system_prompt", self._value("general--system_prompt") or None)
        params = self._params("general").values()
        for param in PARAM_SPECS:
            chosen = params.get(param.name)
            put(defaults, param.name, list(chosen) if isinstance(chosen, tuple) else chosen)
        raw["defaults"] = defaults
        network = dict(raw.get("network", {}))
        for key in ("connect_timeout", "read_timeout"):
            number = parse_number(self._value(f"general--{key}"), float)
            if key in network or number != getattr(NetworkSettings(), key):
                put(network, key, number)  # a default shown on screen is not written out
        raw["network"] = network
        in_file = raw.get("providers", {})
        providers = {k: dict(v) for k, v in in_file.items()}
        for name, settings in self.config.providers.items():
            table = providers.setdefault(name, {})
            for spec in option_specs(settings.kind):
                value = self._value(field_id(name, spec.name))
                current = getattr(settings, spec.name, None)
                store_option(table, spec, value, current)
                unchanged = spec.name in table and table[spec.name] == _as_saved(current)
                if name not in in_file and unchanged:
                    del table[spec.name]  # a built-in provider's setting, as it was
            if not table:
                providers.pop(name)
        raw["providers"] = providers
        return {k: v for k, v in raw.items() if v not in ({}, None)}

    def _conversation_result(self) -> ConversationSettings | None:
        if self.conversation is None:
            return None
        return ConversationSettings(
            self._value("conv--system_prompt"),
            self._params("conv"),
            self._value("conv--context_overflow") or None,
            self._value("conv--persona") or None,
        )

    def _params(self, prefix: str) -> GenerationParams:
        """The parameters on screen under ``prefix`` (blank or unusable ones unset)."""
        values: dict[str, Any] = {}
        for spec in PARAM_SPECS:
            text = self._value(f"{prefix}--{spec.name}")
            if text.strip():
                try:
                    values[spec.name] = parse_param(spec.name, text)
                except ValueError:
                    continue
        return GenerationParams(**values)

    # --- actions --------------------------------------------------------------------

    def _number_problem(self) -> str | None:
        """The first number or parameter field that holds something that cannot be used."""
        for widget_id, (label, kind) in NUMBER_FIELDS.items():
            text = self._value(widget_id)
            if text and parse_number(text, kind) is None:
                return f"{label} must be a number, not “{text}”."
        for prefix, owner in (("general", "Default"), ("conv", "This conversation's")):
            for spec in PARAM_SPECS:
                if not self.query(f"#{prefix}--{spec.name}"):
                    continue  # no conversation open: no overrides on screen
                text = self._value(f"{prefix}--{spec.name}")
                try:
                    if text.strip():
                        parse_param(spec.name, text)
                except ValueError as error:
                    return f"{owner} {spec.label.lower()}: {error}"
        return None

    def action_save(self) -> None:
        """Check the values, then hand them back to be written."""
        problem = self._number_problem()
        if problem:
            self.notify(f"Not saved: {problem}", severity="error")
            return
        raw = self.collect()
        try:
            parse_config(toml_text(raw), self.config.path)
        except (ConfigError, ValueError, TypeError) as error:
            self.notify(f"Not saved: {error}", severity="error")
            return
        self.dismiss(SettingsResult(raw, self._conversation_result(), self.config.raw))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        if button == "save":
            self.action_save()
        elif button == "cancel":
            self.dismiss(None)
        elif button.startswith("test--"):
            self.test_connection(button.removeprefix("test--"))

    def action_test_connection(self) -> None:
        """Test the connection of the provider whose tab is open."""
        active = self.query_one("#settings-tabs", TabbedContent).active.removeprefix("tab-")
        if active in self.config.providers:
            self.test_connection(active)
        else:
            self.notify("Open a provider's tab to test its connection.", severity="warning")

    def _show_result(self, result: Static, text: Text) -> None:
        """A test's outcome, scrolled into view (it sits below its provider's fields)."""
        result.update(text)
        self.call_after_refresh(result.scroll_visible, animate=False)

    @work(group="settings-test", exclusive=True)
    async def test_connection(self, name: str) -> None:
        """List the provider's models with the values on screen, and time it."""
        result = self.query_one(f"#result--{name}", Static)
        self._show_result(result, Text("Testing…", style="dim"))
        try:
            config = parse_config(toml_text(self.collect()), self.config.path)
            settings = config.providers[name]
        except (ConfigError, KeyError, ValueError) as error:
            self._show_result(result, Text(f"✗ {error}", style="red"))
            return
        provider = build_provider(replace(settings), config.network)
        started = time.perf_counter()
        try:
            models = await provider.list_models()
            if provider.capabilities.reports_credits:
                credits = await provider.fetch_credits()
            else:
                credits = None
        except ProviderError as error:
            self._show_result(result, Text(f"✗ {error.message}", style="red"))
            return
        finally:
            await provider.aclose()
        elapsed = (time.perf_counter() - started) * 1000
        line = f"✓ {len(models)} models in {elapsed:.0f} ms"
        if credits is not None:
            line += f" · credits {dollars(credits.remaining_usd)}"
        names = ", ".join(m.id for m in models[:5])
        self._show_result(result, Text(f"{line}\n{names}", style="green"))


def _as_saved(value: Any) -> Any:
    """A setting as the config file would hold it (lists, not tuples)."""
    return list(value) if isinstance(value, tuple) else value
