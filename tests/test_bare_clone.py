"""The suite needs nothing beside the repository: a bare clone runs its fixture tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import WIRE


def test_opening_a_file_beside_the_repository_fails() -> None:
    beside = REPO.parent / "a-folder-beside-the-checkout" / "README.md"
    with pytest.raises(PermissionError, match="outside the repository"):
        beside.open()


def test_wire_fixtures_live_inside_the_repository() -> None:
    assert WIRE.is_relative_to(REPO)
    assert (WIRE / "03-chat-stream.sse").stat().st_size > 0


@pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / ".git").exists(), reason="not a git checkout"
)
def test_a_bare_clone_runs_the_fixture_tests(tmp_path: Path) -> None:
    clone = tmp_path / "alone" / "llamachat"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts="]
    tests = [
        "tests/test_openai_stream.py::test_real_llamacpp_stream_sample",
        "tests/test_errors.py",
    ]
    result = subprocess.run(
        [*command, *tests],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
