"""The provider and model picker: a modal with fuzzy filtering.

It lists every provider with whether its key is present, and each one's
models with context length and price where known; models are fetched from
``/models`` in the background where the provider has that call.
"""

from __future__ import annotations

from collections.abc import Callable
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
from llamachat.providers.base import ModelInfo, Provider
from llamachat.providers.errors import ProviderError
from llamachat.textsafety import one_line
from llamachat.workspace import Workspace


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


class PickerScreen(ModalScreen[tuple[str, str] | None]):
    """Pick a provider and model; returns ``(provider, model)`` or ``None``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")
    ]

    def __init__(self, entries: list[ProviderEntry], current: tuple[str, str]) -> None:
        super().__init__(classes="dialog")
        self.entries = entries
        self.current = current
        self.filter = Input(placeholder="Type to filter providers and models…", id="filter")
        self.options = OptionList(id="choices")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box wide tall"):
            yield Label(Text("Switch provider and model (from the next message on)", style="bold"))
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

    def refill(self) -> None:
        """Rebuild the list for the current filter, best matches first."""
        query = self.filter.value.strip()
        matcher = Matcher(query) if query else None
        scored: list[tuple[float, Option]] = []
        for order, entry in enumerate(self.entries):
            models = entry.models or entry.provider.known_models()
            header = Text()
            header.append(one_line(entry.provider.display_name, 80), style="bold")
            header.append(f"  {entry.name} · {key_state(entry.provider)}", style="dim")
            if entry.note:
                header.append(f"\n  {one_line(entry.note)}", style="red")
            if not models:
                models = []
            for index, model in enumerate(models):
                label = f"{entry.name} {entry.provider.display_name} {model.id}"
                score = matcher.match(label) if matcher else 1.0 - order * 1e-3 - index * 1e-6
                if score <= 0:
                    continue
                text = Text()
                mark = "● " if (entry.name, model.id) == self.current else "  "
                text.append(mark, style="green")
                text.append(one_line(model.id, 120))  # a server's model list is untrusted
                details = one_line(describe_model(model), 120)
                text.append(f"  {one_line(entry.provider.display_name, 80)}", style="dim")
                if details:
                    text.append(f" · {details}", style="dim")
                scored.append((score, Option(text, id=f"{entry.name}\x00{model.id}")))
            if not query:
                scored.append((1.0 - order * 1e-3 + 1e-5, Option(header, disabled=True)))
        scored.sort(key=lambda pair: -pair[0])
        self.options.clear_options()
        self.options.add_options([option for _, option in scored])
        if self.options.option_count:
            first = next(
                (
                    i
                    for i in range(self.options.option_count)
                    if not self.options.get_option_at_index(i).disabled
                ),
                None,
            )
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
        provider, _, model = option_id.partition("\x00")
        self.dismiss((provider, model))

    def key_down(self) -> None:
        self.options.action_cursor_down()

    def key_up(self) -> None:
        self.options.action_cursor_up()


def pick_model(
    app: App[Any], workspace: Workspace, current: tuple[str, str], then: Callable[[str, str], None]
) -> None:
    """Offer every configured provider's models; ``then(provider, model)`` with the choice."""
    entries = []
    for name in workspace.config.providers:
        try:
            entries.append(ProviderEntry(name, workspace.provider(name)))
        except ConfigError:
            continue  # a provider that cannot be built is not offered

    def picked(choice: tuple[str, str] | None) -> None:
        if choice is not None:
            then(*choice)

    app.push_screen(PickerScreen(entries, current), picked)
