"""Facts about the built-in providers that both the config and the adapters need.

Kept free of heavy imports, so the config module and the UI's first paint can use it
without loading httpx.
"""

from __future__ import annotations

from llamachat.key_env import DEEPINFRA_KEY_ENV as DEEPINFRA_KEY_ENV
from llamachat.key_env import E2E_KEY_ENV as E2E_KEY_ENV
from llamachat.key_env import E2E_PROJECT_ENV as E2E_PROJECT_ENV
from llamachat.key_env import KEY_ENV_BY_KIND as KEY_ENV_BY_KIND
from llamachat.key_env import SEGMIND_KEY_ENV as SEGMIND_KEY_ENV
from llamachat.providers.base import ModelInfo

DEEPINFRA_BASE_URL = "https://api.deepinfra.com/v1/openai"
E2E_BASE_URL = "https://infer.e2enetworks.net/project/p-{project_id}/genai/{model}/v1"
SEGMIND_BASE_URL = "https://api.segmind.com"

#: Human names of the provider kinds.
LABELS: dict[str, str] = {
    "openai": "OpenAI-compatible",
    "deepinfra": "DeepInfra",
    "e2e": "E2E Networks TIR",
    "segmind": "Segmind",
    "demo": "Demo (offline)",
}


def provider_label(name: str, kind: str, display_name: str | None = None) -> str:
    """What a provider is called on screen: its ``display_name``, else the kind's label for
    a built-in one (named after its kind: ``deepinfra``), else the name the person gave it
    in ``[providers.NAME]`` (two servers of one kind must not read alike)."""
    if display_name:
        return display_name
    if name == kind and kind != "openai":
        return LABELS.get(kind, name)
    return name


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
