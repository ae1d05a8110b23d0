"""The command palette: each conversation with its date and provider; one theme command."""

from __future__ import annotations

import re

from textual.command import CommandPalette
from textual.widgets import Input, OptionList

from llamachat.store.db import Store
from llamachat.tui.app import LlamaChatApp
from tests.tui_helpers import SIZE, configure, make_app, wait_for


def _shown(app: LlamaChatApp) -> list[str]:
    """The palette's rows as text (title and help)."""
    results = app.screen.query_one(OptionList)
    return [
        str(results.get_option_at_index(i).prompt).replace("\n", " ")
        for i in range(results.option_count)
    ]


async def test_palette_shows_a_conversation_s_date_and_provider() -> None:
    configure()
    with Store.open_default() as store:
        old = store.create_conversation(title="Llama husbandry", provider="demo")
        store.add_message(old.id, "user", "hay?")
        store.add_message(old.id, "assistant", "yes", provider="demo", model="llama-3.1-8b-demo")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await wait_for(lambda: isinstance(app.screen, CommandPalette), pilot)
        await pilot.press(*"husbandry")
        await wait_for(lambda: any("Llama husbandry" in row for row in _shown(app)), pilot)
        row = next(row for row in _shown(app) if "Llama husbandry" in row)
        assert "Demo" in row and "2 messages" in row
        assert re.search(r"\b\d\d:\d\d\b", row)  # updated today: the time
        app.screen.query_one(Input).value = "theme"
        await wait_for(lambda: any("heme" in row for row in _shown(app)), pilot)
        await pilot.pause(0.3)  # every provider has answered
        themes = [row for row in _shown(app) if row.lower().startswith(("theme", "change theme"))]
        assert len(themes) == 1, themes
