"""The provider and model picker: a modal with fuzzy filtering.

It lists every provider with whether its key is present, and each one's
models with context length and price where known; models are fetched from
``/models`` in the background where the provider has that call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from llamachat.config_errors import ConfigError
from llamachat.config_personas import Persona
from llamachat.providers.base import ModelInfo, Provider
from llamachat.providers.errors import ProviderError
from llamachat.textsafety import one_line
from llamachat.workspace import Workspace


@dataclass
class Group:
    """A header and its rows, each with its score against the filter."""

    header: Text
    rows: list[tuple[float, Option]]


@dataclass
class ProviderEntry:
    """A provider as the picker shows it."""

    name: str
    provider: Provider
    models: list[ModelInfo] = field(default_factory=list)
    note: str = ""


def describe_model(model: ModelInfo) -> str:
    """Context and price of a model, where known."""
    parts = []
    if model.context_length:
        parts.append(f"{model.context_length // 1024}k ctx")
    if model.usd_per_mtok_in is not None:
        out = model.usd_per_mtok_out
        price = f"${model.usd_per_mtok_in:g}"
        if out is not None and out != model.usd_per_mtok_in:
            price += f"/${out:g}"
        parts.append(f"{price} per M tokens")
    if model.vision:
        parts.append("images")
    return " · ".join(parts)


def key_state(provider: Provider) -> str:
    """Whether the provider can be used as it is."""
    if provider.has_key and provider.key_source:
        return f"key from {provider.key_source}"
    if not provider.capabilities.needs_key:
        return "no key needed"
    hint = provider.key_env[0] if provider.key_env else "a key"
    return f"needs {hint}"


@dataclass(frozen=True)
class PersonaChoice:
    """The picker's answer when a persona was chosen (``name`` ``None``: no persona)."""

    name: str | None


#: The id of a persona's row starts with this (a provider's row: its name, NUL, the model).
_PERSONA_ID = "\x01persona\x00"


class PickerScreen(ModalScreen[tuple[str, str] | PersonaChoice | None]):
    """Pick a provider and model, or a persona; returns ``(provider, model)``, a
    :class:`PersonaChoice`, or ``None``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")
    ]

    def __init__(
        self,
        entries: list[ProviderEntry],
        current: tuple[str, str],
        personas: Sequence[Persona] = (),
        persona: str | None = None,
    ) -> None:
        super().__init__(classes="dialog")
        self.entries = entries
        self.current = current
        self.personas = list(personas)
        #: The persona in use (``None``: none).
        self.persona = persona
        self.filter = Input(
            placeholder="Type to filter personas, providers and models…", id="filter"
        )
        self.options = OptionList(id="choices")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box wide tall"):
            yield Label(
                Text("Switch persona, provider or model (from the next message on)", style="bold")
            )
            yield self.filter
            yield self.options
            yield Label(
                Text("↑↓ to choose · Enter to switch · Esc to cancel", style="dim"),
            )

    def on_mount(self) -> None:
        self.refill()
        self.filter.focus()
        for entry in self.entries:
            if entry.provider.capabilities.lists_models and (
                entry.provider.has_key or not entry.provider.capabilities.needs_key
            ):
                self.fetch_models(entry)

    @work(group="picker-models")
    async def fetch_models(self, entry: ProviderEntry) -> None:
        """Ask the provider for its models; a failure is noted beside its name."""
        try:
            entry.models = await entry.provider.list_models()
            entry.note = ""
        except ProviderError as error:
            entry.note = error.message
        self.refill()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refill()

    def _persona_group(self, matcher: Matcher | None) -> Group:
        """The personas' rows under their header (and "no persona" while one is in use)."""
        rows: list[tuple[float, Option]] = []
        names: list[str | None] = [p.name for p in self.personas]
        if self.persona is not None:
            names.append(None)
        by_name = {p.name: p for p in self.personas}
        for index, name in enumerate(names):
            persona = by_name.get(name) if name is not None else None
            about = persona.description if persona is not None else "the configured defaults"
            if persona is not None and (persona.provider or persona.model):
                where = " · ".join(x for x in (persona.provider, persona.model) if x)
                about = f"{about} · {where}" if about else where
            shown = name if name is not None else "no persona"
            score = matcher.match(f"persona {shown} {about}") if matcher else 1.0 - index * 1e-6
            if score <= 0:
                continue
            text = Text()
            text.append("● " if name == self.persona else "  ", style="green")
            text.append(one_line(shown, 60), style="italic")
            if about:
                text.append(f"  {one_line(about, 120)}", style="dim")
            rows.append((score, Option(text, id=f"{_PERSONA_ID}{name or ''}")))
        return Group(Text("Personas", style="bold"), rows)

    def _provider_group(self, entry: ProviderEntry, matcher: Matcher | None) -> Group:
        """A provider's header (its own name, the config's name, its key) and its models."""
        models = entry.models or entry.provider.known_models()
        shown = entry.provider.display_name
        header = Text()
        header.append(one_line(shown, 80), style="bold")
        aside = f"{one_line(entry.name, 80)} · " if entry.name != shown else ""
        header.append(f"  {aside}{key_state(entry.provider)}", style="dim")
        if entry.note:
            header.append(f"\n  {one_line(entry.note)}", style="red")
        rows: list[tuple[float, Option]] = []
        for index, model in enumerate(models):
            label = f"{entry.name} {shown} {model.id}"
            score = matcher.match(label) if matcher else 1.0 - index * 1e-6
            if score <= 0:
                continue
            text = Text()
            mark = "● " if (entry.name, model.id) == self.current else "  "
            text.append(mark, style="green")
            text.append(one_line(model.id, 120))  # a server's model list is untrusted
            details = one_line(describe_model(model), 120)
            text.append(f"  {one_line(shown, 80)}", style="dim")
            if details:
                text.append(f" · {details}", style="dim")
            rows.append((score, Option(text, id=f"{entry.name}\x00{model.id}")))
        return Group(header, rows)

    def refill(self) -> None:
        """Rebuild the list for the current filter: each group under its header (a filter
        keeps the header of every group with a match, so two servers' rows of one model
        never stand alone), best groups and best matches first."""
        query = self.filter.value.strip()
        matcher = Matcher(query) if query else None
        groups = [self._persona_group(matcher)] if self.personas else []
        groups += [self._provider_group(entry, matcher) for entry in self.entries]
        if query:
            groups = [group for group in groups if group.rows]
            groups.sort(key=lambda group: -max(score for score, _ in group.rows))
        options: list[Option] = []
        for group in groups:
            options.append(Option(group.header, disabled=True))
            options.extend(option for _, option in sorted(group.rows, key=lambda r: -r[0]))
        self.options.clear_options()
        self.options.add_options(options)
        # Unfiltered, the model in use is highlighted; filtered, the best match.
        ids = [option.id for option in options]
        current = f"{self.current[0]}\x00{self.current[1]}"
        first = next((i for i, option in enumerate(options) if not option.disabled), None)
        if not query and current in ids:
            first = ids.index(current)
        if first is not None:
            self.options.highlighted = first

    def on_input_submitted(self, event: Input.Submitted) -> None:
        option = self.options.highlighted_option
        if option is not None and option.id:
            self._choose(option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._choose(event.option.id)

    def _choose(self, option_id: str) -> None:
        if option_id.startswith(_PERSONA_ID):
            self.dismiss(PersonaChoice(option_id.removeprefix(_PERSONA_ID) or None))
            return
        provider, _, model = option_id.partition("\x00")
        self.dismiss((provider, model))

    def key_down(self) -> None:
        self.options.action_cursor_down()

    def key_up(self) -> None:
        self.options.action_cursor_up()


def pick_model(
    app: App[Any],
    workspace: Workspace,
    current: tuple[str, str],
    then: Callable[[str, str], None],
    persona: str | None = None,
    then_persona: Callable[[str | None], None] | None = None,
) -> None:
    """Offer every configured provider's models, and the personas when ``then_persona`` is
    given; ``then(provider, model)`` or ``then_persona(name)`` with the choice."""
    entries = []
    for name in workspace.config.providers:
        try:
            entries.append(ProviderEntry(name, workspace.provider(name)))
        except ConfigError:
            continue  # a provider that cannot be built is not offered
    personas = list(workspace.config.personas.values()) if then_persona is not None else []

    def picked(choice: tuple[str, str] | PersonaChoice | None) -> None:
        if isinstance(choice, PersonaChoice):
            if then_persona is not None:
                then_persona(choice.name)
        elif choice is not None:
            then(*choice)

    app.push_screen(PickerScreen(entries, current, personas, persona), picked)
