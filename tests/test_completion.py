"""Shell completion: the script ``llamachat completion SHELL`` prints, loaded in a real bash,
completes commands, provider names (the config's own too) and conversation ids; zsh and fish
get the ids with their titles through argcomplete's protocol. An ordinary start never
imports argcomplete."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from llamachat import locations
from llamachat.store.db import Store

BIN = str(Path(sys.executable).parent)


def with_config() -> None:
    path = locations.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '[providers.mybox]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
        'models = ["box-model-a", "box-model-b"]\n'
    )


def seed() -> list[int]:
    with Store.open_default() as store:
        return [
            store.create_conversation(title="Herons \x1b]0;PWNED\x07").id,
            store.create_conversation(title="Egrets").id,
        ]


def in_bash(env: dict[str, str], line: str) -> list[str]:
    """What bash offers after ``line``, with the script of ``llamachat completion bash``."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    script = (
        'eval "$(llamachat completion bash)"\n'
        f"COMP_LINE={shlex.quote(line)}; COMP_POINT={len(line)}; COMP_TYPE=9\n"
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); "
        f"COMP_CWORD={len(words) - 1}\n"
        f"_python_argcomplete llamachat {shlex.quote(words[-1])} {shlex.quote(words[-2])}\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        capture_output=True,
        text=True,
        env={**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [word.strip() for word in result.stdout.splitlines() if word.strip()]


def by_protocol(env: dict[str, str], line: str, shell: str, tmp_path: Path) -> list[str]:
    """argcomplete's answer for ``shell`` (as its zsh and fish scripts ask for it)."""
    answer = tmp_path / "answer.txt"
    result = subprocess.run(
        [sys.executable, "-m", "llamachat"],
        env={
            **env,
            "_ARGCOMPLETE": "1",
            "_ARGCOMPLETE_SHELL": shell,
            "_ARGCOMPLETE_IFS": "\n",
            "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "COMP_TYPE": "9",
            # What the fish script sets (descriptions after a tab); zsh's sets nothing.
            **({"_ARGCOMPLETE_DFS": "\t"} if shell == "fish" else {}),
        },
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return answer.read_text(encoding="utf-8").split("\n")


def test_bash_completes_commands_providers_models_and_conversations(
    subprocess_env: dict[str, str],
) -> None:
    with_config()
    first, second = seed()
    assert {"ask", "history", "completion"} <= set(in_bash(subprocess_env, "llamachat "))
    assert in_bash(subprocess_env, "llamachat hist") == ["history"]
    providers = in_bash(subprocess_env, "llamachat ask -p ")
    assert {"mybox", "demo", "deepinfra"} <= set(providers)
    assert in_bash(subprocess_env, "llamachat ask -p my") == ["mybox"]
    models = in_bash(subprocess_env, "llamachat ask -p mybox -m ")
    assert {"box-model-a", "box-model-b"} <= set(models)
    assert in_bash(subprocess_env, "llamachat ask --rea") == ["--reasoning"]
    assert in_bash(subprocess_env, "llamachat history show ") == [str(second), str(first)]
    assert str(first) in in_bash(subprocess_env, "llamachat export ")


def test_zsh_and_fish_get_conversation_titles(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    first, second = seed()
    zsh = by_protocol(subprocess_env, "llamachat history delete ", "zsh", tmp_path)
    assert f"{second}:Egrets" in zsh
    entry = next(e for e in zsh if e.startswith(f"{first}:"))
    assert "\x1b" not in entry and "Herons" in entry  # a title is escaped, never raw
    fish = by_protocol(subprocess_env, "llamachat ask -c ", "fish", tmp_path)
    assert f"{second}\tEgrets" in fish


def test_completing_creates_no_database(subprocess_env: dict[str, str]) -> None:
    assert in_bash(subprocess_env, "llamachat history show ") == []
    assert not locations.database_path().exists()


def test_an_ordinary_start_does_not_import_argcomplete(subprocess_env: dict[str, str]) -> None:
    code = (
        "import sys\nfrom llamachat.cli import main\nmain(['providers', '--json'])\n"
        "sys.stderr.write(str('argcomplete' in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env
    )
    assert result.stderr == "False"


def test_completion_prints_each_shells_script(subprocess_env: dict[str, str]) -> None:
    for shell, marker in (("bash", "complete "), ("zsh", "compdef"), ("fish", "complete ")):
        result = subprocess.run(
            [sys.executable, "-m", "llamachat", "completion", shell],
            capture_output=True,
            text=True,
            env=subprocess_env,
            timeout=60,
        )
        assert result.returncode == 0 and marker in result.stdout and "llamachat" in result.stdout
