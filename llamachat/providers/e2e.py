"""E2E Networks TIR GenAI: vLLM behind a URL built from the project id and the model."""

from __future__ import annotations

import os
from typing import ClassVar
from urllib.parse import quote

import httpx

from llamachat.providers.adapter import DEFAULT_MODEL_OPTION, KEY_OPTION, MODELS_OPTION
from llamachat.providers.base import (
    Capabilities,
    ChatRequest,
    ModelInfo,
    OptionKind,
    OptionSpec,
)
from llamachat.providers.errors import ErrorKind, ProviderError
from llamachat.providers.openai import OpenAIProvider
from llamachat.providers.presets import (
    E2E_BASE_URL,
    E2E_KEY_ENV,
    E2E_PROJECT_ENV,
    LABELS,
    PRESET_MODELS,
)

PROJECT_ENV = E2E_PROJECT_ENV


class E2EProvider(OpenAIProvider):
    """TIR's OpenAI-compatible endpoint; the model goes in the path and in the body."""

    kind: ClassVar[str] = "e2e"
    label: ClassVar[str] = LABELS["e2e"]
    default_base_url: ClassVar[str | None] = E2E_BASE_URL
    preset_models: ClassVar[tuple[ModelInfo, ...]] = PRESET_MODELS["e2e"]
    options: ClassVar[tuple[OptionSpec, ...]] = (
        KEY_OPTION.with_env(E2E_KEY_ENV),
        OptionSpec(
            "project_id",
            "Project id",
            OptionKind.TEXT,
            "The number of your TIR project (the digits after p- in its URL).",
            env_vars=(PROJECT_ENV,),
        ),
        OptionSpec(
            "base_url",
            "Base URL",
            OptionKind.URL,
            "A template with {project_id} and {model}.",
            default=default_base_url,
        ),
        MODELS_OPTION,
        DEFAULT_MODEL_OPTION,
    )

    def declare_capabilities(self) -> Capabilities:
        return Capabilities(streams=True)

    @property
    def project_id(self) -> str | None:
        """The project id from the config, else ``E2E_TIR_PROJECT_ID``."""
        value = self.settings.project_id or os.environ.get(PROJECT_ENV, "").strip()
        return value.removeprefix("p-") or None

    def _base_for(self, model: str) -> str:
        project = quote(self.project_id or "", safe="")
        return self.base_url.replace("{project_id}", project).replace(
            "{model}", quote(model, safe="")
        )

    def origin(self) -> str:
        url = httpx.URL(self._base_for("model"))
        return str(url.copy_with(path="/", query=None, fragment=None))

    def chat_url(self, model: str) -> str:
        project = quote(self.project_id or "", safe="")
        return f"{self._base_for(model)}/chat/completions?project_id={project}"

    def models_url(self) -> str:
        """The model listing under the default model's URL, with the project filled in."""
        project = quote(self.project_id or "", safe="")
        return f"{self._base_for(self.default_model() or '')}/models?project_id={project}"

    async def list_models(self) -> list[ModelInfo]:
        """The models listed at the default model's endpoint (the URL needs a project id)."""
        self.check_project()
        return await super().list_models()

    def check_request(self, request: ChatRequest) -> None:
        super().check_request(request)
        self.check_project()

    def check_project(self) -> None:
        """Refuse, before any traffic, a URL that cannot be built: no or a malformed project id."""
        if not self.project_id:
            raise ProviderError(
                ErrorKind.NOT_CONFIGURED,
                f"{self.display_name} needs a project id: set {PROJECT_ENV} or add it in Settings.",
            )
        if not self.project_id.isdigit():
            raise ProviderError(
                ErrorKind.NOT_CONFIGURED,
                f"{self.display_name}'s project id must be the digits after p- in your project's "
                f"URL, not '{self.project_id}': fix {PROJECT_ENV} or the setting.",
            )
