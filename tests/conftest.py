"""Shared fixtures: isolated config and data dirs, no real keys, a loopback fake server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeserver import FakeServer

PROVIDER_ENV = (
    "DEEPINFRA_API_KEY",
    "DEEPINFRA_TOKEN",
    "E2E_TIR_ACCESS_TOKEN",
    "E2E_TIR_API_KEY",
    "E2E_TIR_PROJECT_ID",
    "SEGMIND_API_KEY",
    "GROQ_API_KEY",
    "OPENAI_API_KEY",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own config file path and data dir, and no provider keys."""
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("LLAMACHAT_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("LLAMACHAT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture(scope="session")
def _server() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


@pytest.fixture
def fake(_server: FakeServer) -> Iterator[FakeServer]:
    """The loopback fake provider server, with no scripts and no recorded requests."""
    _server.reset()
    yield _server
    _server.reset()


@pytest.fixture(scope="session")
def _other_server() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


@pytest.fixture
def other(_other_server: FakeServer) -> Iterator[FakeServer]:
    """A second fake server on another port: another provider's host."""
    _other_server.reset()
    yield _other_server
    _other_server.reset()


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """The environment for running ``llamachat`` as a subprocess."""
    env = dict(os.environ)
    env["PYTHONIOENCODING"] = "utf-8"
    return env
