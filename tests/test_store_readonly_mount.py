"""A data dir on a read-only mount: the history can still be listed, shown, searched and
exported, and a write (ask, delete, import) is one sentence saying the store is read-only.

Needs a private mount namespace (``unshare -m`` as root, or ``unshare -rm`` where user
namespaces are allowed); skipped where neither is.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llamachat import locations
from llamachat.store.db import Store


def _namespace() -> list[str] | None:
    """An ``unshare`` command line that may bind-mount here, or ``None``."""
    if shutil.which("unshare") is None:
        return None
    for flags in ("-m", "-rm"):
        probe = subprocess.run(
            ["unshare", flags, "true"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return ["unshare", flags]
    return None


def test_a_read_only_mount_still_reads_and_refuses_writes_in_one_sentence(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    unshare = _namespace()
    if unshare is None:
        pytest.skip("no private mount namespace here (unshare -m / -rm)")
    path = locations.database_path()
    with Store(path) as store:
        conversation = store.create_conversation()
        store.add_message(conversation.id, "user", "remember the lighthouse")
    importable = tmp_path / "one.json"
    importable.write_text('[{"role": "user", "content": "hi"}]')
    python = shlex.quote(sys.executable)
    data = shlex.quote(str(path.parent))
    commands = [
        "history list",
        "history show 1",
        "history search lighthouse",
        "export 1 --format md",
        "ask -q -p demo again",
        "history delete 1 --yes",
        f"import {shlex.quote(str(importable))}",
    ]
    script = [f"mount --bind {data} {data}", f"mount -o remount,ro,bind {data}"]
    for command in commands:
        script.append(f"echo '== {command}'")
        script.append(f'{python} -m llamachat {command} 2>&1; echo "rc=$?"')
    result = subprocess.run(
        [*unshare, "sh", "-c", "\n".join(script)],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=240,
    )
    if "mount:" in result.stdout + result.stderr and "== history list" not in result.stdout:
        pytest.skip(f"bind mounts refused here: {result.stderr.strip()[:200]}")
    outputs = dict(
        (part.split("\n", 1)[0].strip(), part.split("\n", 1)[1])
        for part in result.stdout.split("== ")[1:]
    )
    assert "Traceback" not in result.stdout, result.stdout
    for command in commands[:4]:  # said "cannot be opened" for every one of them
        assert "lighthouse" in outputs[command] and "rc=0" in outputs[command], outputs[command]
    assert "again" in outputs[commands[4]]  # the reply is shown, and why it was not saved
    assert "read-only" in outputs[commands[4]]
    for command in commands[5:]:
        assert "read-only" in outputs[command] and "rc=0" not in outputs[command]
    with Store(path) as store:
        assert [c.id for c in store.list_conversations()] == [1]
