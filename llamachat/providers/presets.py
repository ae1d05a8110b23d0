"""Facts about the built-in providers that both the config and the adapters need.

Kept free of heavy imports, so the config module and the UI's first paint can use it
without loading httpx.
"""

from __future__ import annotations

from llamachat.providers.base import ModelInfo

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

#: Human names of the provider kinds.
LABELS: dict[str, str] = {
    "openai": "OpenAI-compatible",
    "deepinfra": "DeepInfra",
    "e2e": "E2E Networks TIR",
    "segmind": "Segmind",
    "demo": "Demo (offline)",
}

_CONTEXT = 131_072
DEMO_STREAM_MODEL = "llama-3.1-8b-demo"
DEMO_QUEUED_MODEL = "llama-3.1-405b-demo-queued"
DEMO_PRICE = 0.20  # invented USD per million tokens, so the cost display has something to show

#: The models each kind offers out of the box (the first is the default), with what is known.
PRESET_MODELS: dict[str, tuple[ModelInfo, ...]] = {
    "openai": (),
    "deepinfra": (
        ModelInfo("meta-llama/Meta-Llama-3.1-8B-Instruct", _CONTEXT, 0.055, 0.055, vision=False),
        ModelInfo("meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", _CONTEXT, vision=False),
        ModelInfo("meta-llama/Meta-Llama-3.1-70B-Instruct", _CONTEXT, vision=False),
        ModelInfo("meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo", _CONTEXT, vision=False),
        ModelInfo("meta-llama/Meta-Llama-3.1-405B-Instruct", _CONTEXT, vision=False),
    ),
    "e2e": (
        ModelInfo("llama3_1_8b_instruct", _CONTEXT, vision=False),
        ModelInfo("llama_3_3_70b_instruct_fp8", _CONTEXT, vision=False),
        ModelInfo("llama3_2_3b_instruct", _CONTEXT, vision=False),
    ),
    "segmind": (
        ModelInfo("llama-v3p1-8b-instruct", _CONTEXT, vision=False),
        ModelInfo("llama-v3p1-70b-instruct", _CONTEXT, vision=False),
        ModelInfo("llama-v3p1-405b-instruct", _CONTEXT, vision=True),
    ),
    "demo": (
        ModelInfo(DEMO_STREAM_MODEL, 8192, DEMO_PRICE, DEMO_PRICE, vision=False),
        ModelInfo(DEMO_QUEUED_MODEL, 8192, DEMO_PRICE, DEMO_PRICE, vision=False),
    ),
}
