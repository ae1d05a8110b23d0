"""Shared fixtures: isolated config and data dirs, no real keys, a loopback fake server."""

from __future__ import annotations

import os
import sys
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
    # No test reaches the real clipboard (copies try wl-copy and xclip when these are set).
    "DISPLAY",
    "WAYLAND_DISPLAY",
)


REPO = Path(__file__).resolve().parents[1]


def _refuse_files_beside_the_repo(event: str, args: tuple[object, ...]) -> None:
    """Fail any open of a file next to the checkout (the team's shared folder): a new clone has none."""
    if event != "open" or not isinstance(args[0], str | Path):
        return
    path = os.path.abspath(os.fspath(args[0]))
    if path.startswith(str(REPO.parent) + os.sep) and not path.startswith(str(REPO) + os.sep):
        raise PermissionError(f"tests must not read outside the repository: {path}")


sys.addaudithook(_refuse_files_beside_the_repo)


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
