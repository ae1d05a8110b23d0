"""The key footer, rebuilt only when the keys it shows change.

Textual's :class:`~textual.widgets.Footer` rebuilds all its keys on every focus
change, once per signal. Moving between two prompts (a new tab, a tab switch)
shows the same keys, so that work, tens of milliseconds of styling, is skipped.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.screen import Screen
from textual.widgets import Footer

_Signature = tuple[Hashable, ...]


class KeyFooter(Footer):
    """A :class:`Footer` that recomposes once per change of the bindings it shows."""

    def __init__(self) -> None:
        super().__init__()
        self._shown_keys: _Signature | None = None
        self._rebuild_pending = False

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild_if_changed)

    def _keys_to_show(self) -> _Signature:
        return tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show or binding.key == self.app.COMMAND_PALETTE_BINDING
        )

    async def _rebuild_if_changed(self) -> None:
        self._rebuild_pending = False
        keys = self._keys_to_show()
        if keys != self._shown_keys:
            self._shown_keys = keys
            await self.recompose()
