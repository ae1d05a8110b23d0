"""Write the README's SVG screenshots to ``screenshots/``, from a real run of the app.

Run from the repository root: ``python scripts/make_screenshots.py``. The app runs
headless against a throwaway config and database, the offline demo provider and
a loopback fake Segmind server, so the pictures are the same on every machine
and no key is involved.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "screenshots"
SIZE = (130, 40)


def prepare_env() -> Path:
    work = Path(tempfile.mkdtemp(prefix="llamachat-shots-"))
    os.environ["LLAMACHAT_DATA_DIR"] = str(work / "data")
    os.environ["LLAMACHAT_CONFIG"] = str(work / "config" / "config.toml")
    os.environ["TZ"] = "UTC"
    time.tzset()
    return work


def seed_history() -> None:
    from llamachat.store.db import Store

    base = 1_795_300_000.0
    conversations = [
        (
            "Sourdough starter schedule",
            "How often should I feed a sourdough starter?",
            "Feed it **once a day** at room temperature, or once a week if it lives in the fridge.",
        ),
        (
            "SQLite WAL mode explained",
            "Explain WAL mode in SQLite in three sentences.",
            "In WAL mode, changes are appended to a separate *write-ahead log* instead of "
            "overwriting the database file.\n\nReaders keep reading the old pages while a writer "
            "appends, so readers never block the writer.\n\nA checkpoint later copies the log back "
            "into the main file.",
        ),
        (
            "Rust lifetimes, briefly",
            "What is a lifetime in Rust?",
            "A lifetime names the region of code where a reference is valid.",
        ),
    ]
    with Store.open_default() as store:
        for n, (title, question, answer) in enumerate(conversations):
            at = base + n * 3600
            c = store.create_conversation(
                title=title,
                provider="deepinfra",
                model="meta-llama/Meta-Llama-3.1-70B-Instruct",
                created_at=at,
            )
            u = store.add_message(c.id, "user", question, created_at=at + 1)
            store.add_message(
                c.id,
                "assistant",
                answer,
                parent_id=u.id,
                provider="deepinfra",
                model="meta-llama/Meta-Llama-3.1-70B-Instruct",
                created_at=at + 2,
                prompt_tokens=31,
                completion_tokens=58,
                cost_usd=0.000052,
                ttft=0.31,
                tokens_per_second=142.0,
                finish_reason="stop",
            )


async def shoot() -> None:
    from llamachat.config import load_config
    from llamachat.config_write import write_config
    from llamachat.store.db import Store
    from llamachat.tui.app import LlamaChatApp
    from tests.fakeserver import FakeServer, json_reply

    OUT.mkdir(exist_ok=True)
    with FakeServer() as fake:
        slug = "llama-v3p1-405b-instruct"
        write_config(
            {
                "default_provider": "demo",
                "providers": {
                    "demo": {"tokens_per_second": 60},
                    "segmind": {
                        "base_url": fake.url,
                        "mode": "async",
                        "poll_interval": 1.0,
                        "api_key": "SG_screenshot_key_000",
                    },
                },
            }
        )
        seed_history()
        fake.on(
            "POST",
            f"/v2/{slug}",
            json_reply(
                {
                    "request_id": "b7c1f0e2-6a1d-4c55",
                    "status": "QUEUED",
                    "status_url": "s",
                    "response_url": "r",
                }
            ),
        )
        fake.on(
            "GET",
            "/v2/requests/b7c1f0e2-6a1d-4c55/status",
            json_reply({"status": "QUEUED"}),
            json_reply({"status": "QUEUED"}),
            json_reply({"status": "PROCESSING"}),
        )
        fake.on("GET", "/v1/get-user-credits", json_reply({"credits": 8.42, "free-credits": 0.5}))

        app = LlamaChatApp(config=load_config(), store=Store.open_default(), discover_local=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.5)
            # 1. Main screen, mid-stream.
            app.action_new_chat()
            await pilot.pause(0.3)
            pane = first = app.active_pane
            assert pane is not None
            pane.submit("Show me a Python function and a table, please.")
            await pilot.pause(2.0)
            app.save_screenshot("main-streaming.svg", str(OUT))
            await pilot.pause(4)

            # 2. The picker.
            await pilot.press("ctrl+l")
            await pilot.pause(0.4)
            await pilot.press(*"llama 70")
            await pilot.pause(0.3)
            app.save_screenshot("picker.svg", str(OUT))
            await pilot.press("escape")

            # 3. Settings.
            await pilot.press("ctrl+s")
            await pilot.pause(0.5)
            app.save_screenshot("settings.svg", str(OUT))
            await pilot.press("escape")
            await pilot.pause(0.2)

            # 4. Search results.
            await pilot.press("ctrl+f")
            await pilot.press(*"checkpoint")
            await pilot.pause(0.4)
            app.save_screenshot("search.svg", str(OUT))
            await pilot.press("escape")

            # 5. A queued Segmind job, credits in the status bar.
            app.action_new_chat()
            await pilot.pause(0.3)
            app.switch_model("segmind", slug)
            pane = app.active_pane
            assert pane is not None
            pane.status.credits = 8.42
            pane.submit("Summarise the history of the Inca road system.")
            await pilot.pause(3.3)
            app.save_screenshot("queued-segmind.svg", str(OUT))
            pane.action_stop()
            await pilot.pause(0.3)

            # 6. Help.
            await pilot.press("f1")
            await pilot.pause(0.3)
            app.save_screenshot("help.svg", str(OUT))
            await pilot.press("escape")

            # 7. The light theme: code in a light Pygments style, inline code on the panel.
            app.theme = "andes-day"
            assert first is not None
            app.tabs.show(first)
            await pilot.pause(0.5)
            app.save_screenshot("light-theme.svg", str(OUT))

            # 8. A reply by a persona: its name leads the badge and the status bar.
            app.theme = "llama-night"
            app.action_new_chat()
            await pilot.pause(0.3)
            app.choose_persona("coder")
            pane = app.active_pane
            assert pane is not None
            pane.submit("Write a function that reverses a string.")
            await pilot.pause(4)
            app.save_screenshot("persona.svg", str(OUT))

            # 9. A selection dragged down the conversation (Ctrl+C copies it as written).
            area = pane.messages.region
            start, end = (area.x + 6, area.y + 2), (area.x + 40, area.y + 12)
            await pilot.mouse_down(None, start)
            await pilot.hover(None, end)
            await pilot.mouse_up(None, end)
            await pilot.pause(0.3)
            app.save_screenshot("selection.svg", str(OUT))
    print(json.dumps(sorted(p.name for p in OUT.glob("*.svg"))))


if __name__ == "__main__":
    prepare_env()
    asyncio.run(shoot())
