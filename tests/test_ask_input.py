"""What ``ask`` sends: piped text with a prompt, ``-f`` text files, ``-e`` the editor; and
the store's query of earlier prompts that Up recalls."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from llamachat.attach_files import fenced
from llamachat.store.db import Store
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.test_cli import run

CHAT = "/v1/chat/completions"


def reply(fake: FakeServer, text: str = "ok") -> None:
    fake.on("POST", CHAT, sse_reply(stream_events([text])))


def stored_prompt() -> str:
    with Store.open_default() as store:
        latest = store.latest_conversation_id()
        assert latest is not None
        return store.messages(latest)[0].content


def test_piped_text_and_a_prompt_are_both_sent_and_stored(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    reply(fake)
    notes = "# Notes\n\n- buy milk\n- call Ana\n"
    result = run(
        "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "-q", "summarize this",
        env=subprocess_env, stdin=notes,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    sent = fake.received("POST")[0].json["messages"][-1]["content"]
    assert sent == f"summarize this\n\n{notes}"
    assert stored_prompt() == sent


def test_an_empty_pipe_leaves_the_prompt_alone(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    reply(fake)
    result = run("ask", "--base-url", f"{fake.url}/v1", "-m", "m", "hi", env=subprocess_env)
    assert result.returncode == 0
    assert fake.received("POST")[0].json["messages"][-1]["content"] == "hi"


def test_files_go_as_fenced_blocks_with_their_names(
    fake: FakeServer, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    reply(fake)
    (tmp_path / "app.py").write_text("print('````')\n")
    (tmp_path / "README").write_text("read me")
    result = run(
        "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "-q",
        "-f", str(tmp_path / "app.py"), "--file", str(tmp_path / "README"), "review",
        env=subprocess_env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    sent = fake.received("POST")[0].json["messages"][-1]["content"]
    assert sent == "review\n\napp.py\n`````py\nprint('````')\n`````\n\nREADME\n```\nread me\n```"
    assert stored_prompt() == sent


def test_a_file_too_large_for_the_context_is_refused_with_its_tokens(
    fake: FakeServer, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    from llamachat.config_write import write_config

    write_config(
        {
            "providers": {
                "small": {
                    "kind": "openai",
                    "base_url": f"{fake.url}/v1",
                    "default_model": "tiny",
                    "context": {"tiny": 1024},
                }
            }
        }
    )
    big = tmp_path / "big.txt"
    big.write_text("x" * 8000)  # about 2,000 tokens
    result = run("ask", "-p", "small", "-f", str(big), "what is it", env=subprocess_env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "llamachat: big.txt is about 2,005 tokens, more than the 759 this model's 1,024-token "
        "context leaves for a prompt. Nothing was sent."
    )
    assert fake.received("POST") == []


def test_binary_and_missing_files_are_refused_in_one_sentence(
    fake: FakeServer, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "x.bin").write_bytes(b"\x7fELF\x00\x00")
    url = f"{fake.url}/v1"
    binary = run("ask", "--base-url", url, "-f", str(tmp_path / "x.bin"), "hi", env=subprocess_env)
    assert binary.returncode == 2
    assert (
        binary.stderr
        == "llamachat: x.bin is not a text file: it holds binary data. Nothing was sent.\n"
    )
    missing = run(
        "ask", "--base-url", url, "-f", str(tmp_path / "no.txt"), "hi", env=subprocess_env
    )
    assert missing.returncode == 2 and "There is no file" in missing.stderr
    assert "Traceback" not in binary.stderr + missing.stderr
    assert fake.received("POST") == []


def editor_script(folder: Path, body: str, code: int = 0) -> str:
    script = folder / "ed.py"
    script.write_text(
        f"#!{sys.executable}\nimport pathlib, sys\n"
        "print('editor screen')\n"
        f"pathlib.Path(sys.argv[1]).write_text({body!r})\nsys.exit({code})\n"
    )
    script.chmod(0o755)
    return str(script)


def test_ask_e_sends_what_the_editor_saved(
    fake: FakeServer, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    reply(fake)
    env = {**subprocess_env, "VISUAL": editor_script(tmp_path, "written\nin the editor\n")}
    result = subprocess.run(
        [sys.executable, "-m", "llamachat", "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "-e"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert fake.received("POST")[0].json["messages"][-1]["content"] == "written\nin the editor"
    assert "editor screen" not in result.stdout  # the reply alone, whatever the editor drew


def test_ask_e_with_a_failing_editor_sends_nothing(
    fake: FakeServer, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**subprocess_env, "VISUAL": editor_script(tmp_path, "x", code=1)}
    result = subprocess.run(
        [sys.executable, "-m", "llamachat", "ask", "--base-url", f"{fake.url}/v1", "-e"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "llamachat: The editor (ed.py) exited with status 1: nothing changed. Nothing was sent."
    )
    assert fake.received("POST") == []


def test_fences_outgrow_any_backtick_run_inside() -> None:
    assert fenced("a ``` b ````` c", "md") == "``````md\na ``` b ````` c\n``````"
    assert fenced("plain\n") == "```\nplain\n```"


def test_recent_prompts_this_conversation_first_each_once_and_bounded(tmp_path: Path) -> None:
    with Store.open_default() as store:
        here = store.create_conversation()
        there = store.create_conversation()
        store.add_message(there.id, "user", "elsewhere old")
        store.add_message(here.id, "user", "here old")
        store.add_message(here.id, "assistant", "an answer")
        store.add_message(there.id, "user", "elsewhere new")
        store.add_message(here.id, "user", "here new")
        store.add_message(there.id, "user", "here old")  # the same text again: listed once
        assert store.recent_prompts(here.id, 10) == [
            "here new",
            "here old",
            "elsewhere new",
            "elsewhere old",
        ]
        assert store.recent_prompts(None, 10) == ["here old", "here new", "elsewhere new",
                                                  "elsewhere old"]  # fmt: skip
        assert store.recent_prompts(here.id, 3) == ["here new", "here old", "elsewhere new"]
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        store.recent_prompts(here.id, 5)
        store._db.set_trace_callback(None)
        assert len(statements) == 2 and all("LIMIT 5" in sql for sql in statements)
        plan = " ".join(str(row[-1]) for row in store._read(f"EXPLAIN QUERY PLAN {statements[0]}"))
        assert "USING INDEX messages_by_conversation" in plan and "TEMP B-TREE" not in plan


def test_recalling_costs_the_same_whatever_the_size_of_the_conversation(tmp_path: Path) -> None:
    """The work (SQLite's instructions, counted) does not grow with the messages stored, also
    when the conversation open holds all the newest ones."""
    steps = []
    for size in (2_000, 20_000):
        with Store(tmp_path / f"{size}.db") as store:
            there, here = store.create_conversation(), store.create_conversation()
            store.add_message(there.id, "user", "elsewhere")
            with store.transaction(bulk=True) as db:
                db.executemany(
                    "INSERT INTO messages (conversation_id, role, content, created_at) "
                    "VALUES (?, ?, ?, 0)",
                    ((here.id, ("user", "assistant")[i % 2], f"p{i}") for i in range(size)),
                )
            ticks = [0]

            def tick(ticks: list[int] = ticks) -> int:
                ticks[0] += 1
                return 0

            store._db.set_progress_handler(tick, 100)  # one tick per 100 instructions
            assert store.recent_prompts(here.id, 5)[0] == f"p{size - 2}"
            store._db.set_progress_handler(None, 0)
            steps.append(ticks[0])
    assert steps[0] == steps[1] and steps[1] < 10, steps
