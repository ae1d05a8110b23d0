"""DeepInfra: OpenAI-compatible, with its own base URL, key variables, models and cost reports."""

from __future__ import annotations

from typing import ClassVar

from llamachat.providers.adapter import (
    BASE_URL_OPTION,
    DEFAULT_MODEL_OPTION,
    KEY_OPTION,
    MODELS_OPTION,
)
from llamachat.providers.base import Capabilities, ModelInfo, OptionSpec
from llamachat.providers.openai import OpenAIProvider
from llamachat.providers.presets import (
    DEEPINFRA_BASE_URL,
    DEEPINFRA_KEY_ENV,
    LABELS,
    PRESET_MODELS,
)


class DeepInfraProvider(OpenAIProvider):
    """DeepInfra's OpenAI endpoint; ``usage.estimated_cost`` is reported as the cost."""

    kind: ClassVar[str] = "deepinfra"
    label: ClassVar[str] = LABELS["deepinfra"]
    default_base_url: ClassVar[str | None] = DEEPINFRA_BASE_URL
    preset_models: ClassVar[tuple[ModelInfo, ...]] = PRESET_MODELS["deepinfra"]
    options: ClassVar[tuple[OptionSpec, ...]] = (
        KEY_OPTION.with_env(DEEPINFRA_KEY_ENV),
        BASE_URL_OPTION.with_default(default_base_url),
        MODELS_OPTION,
        DEFAULT_MODEL_OPTION,
    )
    # PROTOCOLS.md section 2: usage may come on the finish chunk or, asked for with
    # stream_options, in a chunk of its own; both are read (the last one wins).
    stream_usage_default: ClassVar[bool] = True

    def declare_capabilities(self) -> Capabilities:
        return Capabilities(streams=True, lists_models=True, reports_cost=True)
