"""Notices sit where they hide nothing the person watches: not the status bar, the footer,
the prompt or the tab bar."""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._toast import Toast

from tests.tui_helpers import SIZE, configure, make_app, pane, wait_for


async def test_toasts_leave_the_status_bar_footer_prompt_and_tabs_uncovered() -> None:
    configure()
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for number in range(3):
            app.notify(f"Notice number {number}: a sentence long enough to wrap once or twice.")
        await wait_for(lambda: len(app.screen.query(Toast)) >= 3, pilot)
        await pilot.pause(0.2)
        toasts = [toast.region for toast in app.screen.query(Toast)]
        assert all(region.area for region in toasts)
        watched = {
            "status bar": app.status_bar.region,
            "footer": app.screen.query_one(Footer).region,
            "prompt": pane(app).prompt.region,
            "tab bar": app.tabs.strip.region,
        }
        for name, region in watched.items():
            assert region.area, name
            for toast in toasts:
                assert not toast.overlaps(region), f"a notice covers the {name}"
