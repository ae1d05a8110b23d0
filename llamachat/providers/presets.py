"""Facts about the built-in providers that both the config and the adapters need.

Kept free of imports so the config module can use it without loading httpx.
"""

from __future__ import annotations

DEEPINFRA_BASE_URL = "https://api.deepinfra.com/v1/openai"
# The official SDK reads the first; DeepInfra's curl examples use the second.
DEEPINFRA_KEY_ENV = ("DEEPINFRA_API_KEY", "DEEPINFRA_TOKEN")
E2E_BASE_URL = "https://infer.e2enetworks.net/project/p-{project_id}/genai/{model}/v1"
E2E_KEY_ENV = ("E2E_TIR_ACCESS_TOKEN", "E2E_TIR_API_KEY")
E2E_PROJECT_ENV = "E2E_TIR_PROJECT_ID"
SEGMIND_BASE_URL = "https://api.segmind.com"
SEGMIND_KEY_ENV = ("SEGMIND_API_KEY",)

#: The env vars a provider kind reads its key from when the config names none.
KEY_ENV_BY_KIND: dict[str, tuple[str, ...]] = {
    "deepinfra": DEEPINFRA_KEY_ENV,
    "e2e": E2E_KEY_ENV,
    "segmind": SEGMIND_KEY_ENV,
}
