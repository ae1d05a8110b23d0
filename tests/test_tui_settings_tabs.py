"""Settings: the provider tabs fit or scroll in a narrow terminal; Ctrl+T tests the
connection of the provider whose tab is open."""

from __future__ import annotations

from textual.containers import Container
from textual.widgets import Static, TabbedContent, Tabs

from llamachat.tui.screens.settings import SettingsScreen
from tests.fakeserver import FakeServer, json_reply
from tests.tui_helpers import SIZE, configure, make_app, wait_for


async def test_ctrl_t_tests_the_connection_of_the_open_provider_tab(fake: FakeServer) -> None:
    fake.on("GET", "/v1/models", json_reply({"data": [{"id": "fake-model"}, {"id": "other"}]}))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        await pilot.press("ctrl+t")  # the General tab: nothing to test, said so
        await wait_for(
            lambda: any("provider's tab" in n.message for n in app._notifications), pilot
        )
        assert isinstance(app.screen, SettingsScreen)  # not the app's export dialog
        app.screen.query_one("#settings-tabs", TabbedContent).active = "tab-fake"
        await pilot.pause()
        await pilot.press("ctrl+t")
        result = app.screen.query_one("#result--fake", Static)
        await wait_for(lambda: "models in" in str(result.render()), pilot)
        assert "✓ 2 models in" in str(result.render())
        assert fake.received("GET", "/v1/models")


async def test_many_provider_tabs_scroll_in_a_narrow_terminal() -> None:
    names = [f"server-number-{i}" for i in range(9)]
    configure(
        providers={name: {"kind": "openai", "base_url": "http://127.0.0.1:9/v1"} for name in names}
    )
    app = make_app()
    async with app.run_test(size=(70, 30)) as pilot:
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        tabbed = app.screen.query_one("#settings-tabs", TabbedContent)
        scroll = tabbed.query_one(Tabs).query_one("#tabs-scroll", Container)
        await wait_for(lambda: scroll.max_scroll_x > 0, pilot)
        assert scroll.show_horizontal_scrollbar  # too many to fit: a bar says there are more
        tabbed.active = f"tab-{names[-1]}"  # the last one, far to the right
        last = tabbed.get_tab(f"tab-{names[-1]}")
        await wait_for(lambda: scroll.region.contains_region(last.region), pilot)
        underline = tabbed.query_one(Tabs).query_one("Underline")
        # The bar has a row of its own, under the tabs' underline:
        assert underline.region.y == last.region.y + 1 < scroll.region.bottom - 1


async def test_a_few_provider_tabs_fit_with_no_scroll_bar() -> None:
    configure()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        tabbed = app.screen.query_one("#settings-tabs", TabbedContent)
        scroll = tabbed.query_one(Tabs).query_one("#tabs-scroll", Container)
        await pilot.pause(0.2)
        assert scroll.max_scroll_x == 0 and not scroll.show_horizontal_scrollbar
