"""Show the HTML export as a reader sees it: headless Chromium, light, dark and printed.

Run from the repository root: ``python scripts/html_export_screenshots.py``. It
stores a sample conversation (code in several languages, an unknown one, a line
too long for a page, a table, reasoning) in a throwaway database, exports it as
HTML and has Chromium write to ``screenshots/``:

- ``html-export-light.png`` and ``html-export-dark.png``: the page with the
  reader's preference set to light, then dark;
- ``html-export-print.pdf``: the page printed (with a dark preference, which
  print ignores), and ``html-export-print-N.png`` of its pages when Poppler's
  ``pdftoppm`` is there.

Chromium comes from Debian (``apt-get install chromium``; ``poppler-utils`` for
the PNGs of the PDF). The tests do not need it. ``--keep`` also writes the
exported page, ``screenshots/html-export.html``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "screenshots"
WIDTH = 1000

REASONING = "They want retries with backoff; jitter avoids a thundering herd. Shell call too."
#: A comment too long for a printed line: print wraps it rather than cutting it off.
LONG = (
    "# jittered: 0.5 s, 1 s, 2 s, 4 s and so on, so that many clients retrying at once"
    " do not all arrive together"
)
ANSWER = '''Here is a small helper with **exponential backoff** and jitter:

```python
import random
import time

import httpx


def get_with_retries(url: str, attempts: int = 5, base: float = 0.5) -> httpx.Response:
    """GET ``url``, retrying on 5xx and network errors; raise after ``attempts``."""
    for attempt in range(attempts):
        try:
            response = httpx.get(url, timeout=10.0)
            if response.status_code < 500:
                return response
        except httpx.TransportError:
            pass
        time.sleep(base * 2**attempt + random.uniform(0, base))  LONG
    raise RuntimeError(f"{url} still failing after {attempts} attempts")
```

Call it from the shell:

```bash
python -c 'from retry import get_with_retries as g; print(g("https://example.org").status_code)'
```

| attempt | wait (s) |
|--------:|---------:|
| 1 | 0.5–1.0 |
| 2 | 1.0–1.5 |
| 3 | 2.0–2.5 |

Use `httpx.Client` for many calls: it keeps connections open.'''.replace("LONG", LONG)
FOLLOW_UP = "And as config? Also, what does this log line mean?\n\n```\n503 upstream busy\n```"
CONFIG = """As JSON:

```json
{"attempts": 5, "base_seconds": 0.5, "retry_on": [500, 502, 503, 504], "jitter": true}
```

The log line is the server saying it is overloaded, which the helper retries. In the
server's own notation (no highlighter knows it, so it stays plain):

```nginxish
upstream busy => retry-after 2s <until healthy>
```"""


def sample_page() -> str:
    """The sample conversation, exported as HTML."""
    from llamachat.store.db import Store
    from llamachat.store.export import export

    at = 1_795_300_000.0
    with tempfile.TemporaryDirectory(prefix="llamachat-html-") as work:
        store = Store(Path(work) / "db.sqlite3")
        c = store.create_conversation(
            title="Retrying HTTP requests",
            system_prompt="You are a concise senior Python engineer.",
            provider="deepinfra",
            model="meta-llama/Meta-Llama-3.1-70B-Instruct",
            created_at=at,
        )
        model = "meta-llama/Meta-Llama-3.1-70B-Instruct"
        ask = "Write a Python GET with retries and exponential backoff, and a shell call."
        u1 = store.add_message(c.id, "user", ask, created_at=at + 1)
        a1 = store.add_message(
            c.id, "assistant", ANSWER, parent_id=u1.id, created_at=at + 9,
            reasoning=REASONING, reasoning_seconds=2.0, prompt_tokens=41,
            completion_tokens=388, cost_usd=0.000142, provider="deepinfra", model=model,
        )  # fmt: skip
        u2 = store.add_message(c.id, "user", FOLLOW_UP, parent_id=a1.id, created_at=at + 60)
        store.add_message(
            c.id, "assistant", CONFIG, parent_id=u2.id, created_at=at + 64,
            prompt_tokens=460, completion_tokens=95, cost_usd=0.000061, provider="deepinfra",
            model=model,
        )  # fmt: skip
        page = export(store.load(c.id), "html")
        store.close()
    return page


def chromium() -> str:
    for name in ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("Chromium is not installed: apt-get install chromium")


def run(browser: str, profile: Path, *arguments: str) -> None:
    command = [
        browser, "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
        f"--user-data-dir={profile}", *arguments,
    ]  # fmt: skip
    if os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses root without it (containers)
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def main() -> None:
    browser = chromium()
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="llamachat-chromium-") as work:
        page = Path(work) / "export.html"
        page.write_text(sample_page(), encoding="utf-8")
        if "--keep" in sys.argv:
            shutil.copyfile(page, OUT / "html-export.html")
        url = page.as_uri()
        # preferredColorScheme: 0 is dark, 1 is light (Blink's enum), whatever the desktop says.
        for name, scheme in (("light", 1), ("dark", 0)):
            target = OUT / f"html-export-{name}.png"
            run(
                browser, Path(work) / name, f"--blink-settings=preferredColorScheme={scheme}",
                f"--window-size={WIDTH},2000", f"--screenshot={target}", url,
            )  # fmt: skip
            print(target)
        pdf = OUT / "html-export-print.pdf"
        run(
            browser, Path(work) / "print", "--blink-settings=preferredColorScheme=0",
            "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url,
        )  # fmt: skip
        print(pdf)
    if shutil.which("pdftoppm"):
        for old in OUT.glob("html-export-print-*.png"):
            old.unlink()
        prefix = OUT / "html-export-print"
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(prefix)], check=True)
        for png in sorted(OUT.glob("html-export-print-*.png")):
            print(png)


if __name__ == "__main__":
    main()
