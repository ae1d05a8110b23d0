"""Where each built-in provider kind reads its key from when the config names none.

The config needs these to say which variable a key came from, and the adapters need
them to read it: kept here, importing nothing, so the config does not import providers.
"""

from __future__ import annotations

# The official SDK reads the first; DeepInfra's curl examples use the second.
DEEPINFRA_KEY_ENV = ("DEEPINFRA_API_KEY", "DEEPINFRA_TOKEN")
E2E_KEY_ENV = ("E2E_TIR_ACCESS_TOKEN", "E2E_TIR_API_KEY")
E2E_PROJECT_ENV = "E2E_TIR_PROJECT_ID"
SEGMIND_KEY_ENV = ("SEGMIND_API_KEY",)

#: The env vars a provider kind reads its key from when the config names none.
KEY_ENV_BY_KIND: dict[str, tuple[str, ...]] = {
    "deepinfra": DEEPINFRA_KEY_ENV,
    "e2e": E2E_KEY_ENV,
    "segmind": SEGMIND_KEY_ENV,
}
