"""The platform's clipboard tools (llamachat.clipboard, no Textual): which are tried, in
what order, and what happens when one fails or hangs. Fake tools on PATH write what they
read to a file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from llamachat import clipboard


def tool(bin_dir: Path, name: str, body: str) -> Path:
    """A fake ``name`` in ``bin_dir`` running the shell ``body``; where it writes."""
    bin_dir.mkdir(exist_ok=True)
    out = bin_dir.parent / f"{name}.out"
    script = bin_dir / name
    script.write_text(f"#!/bin/sh\n{body.format(out=out)}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return out


WRITES = '/bin/cat > "{out}"'


def test_each_platform_tries_its_own_tools_of_those_installed(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    for name in ("wl-copy", "xclip", "xsel", "pbcopy", "clip.exe"):
        tool(bin_dir, name, WRITES)
    path = {"PATH": str(bin_dir)}

    def names(env: dict[str, str], platform: str) -> list[str]:
        return [t.name for t in clipboard.tools(env, platform)]

    assert names(path, "darwin") == ["pbcopy"]
    assert names(path, "win32") == ["clip.exe"]
    both = {**path, "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    assert names(both, "linux") == ["wl-copy", "xclip", "xsel", "clip.exe"]
    assert names({**path, "DISPLAY": ":0"}, "linux") == ["xclip", "xsel", "clip.exe"]
    assert names(path, "linux") == ["clip.exe"]  # WSL: no display, Windows' own tool
    (bin_dir / "xclip").unlink()
    assert names({**path, "DISPLAY": ":0"}, "linux") == ["xsel", "clip.exe"]
    assert names({"PATH": str(tmp_path / "nothing"), "DISPLAY": ":0"}, "linux") == []


def test_a_failing_or_hanging_tool_gives_way_to_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    tool(bin_dir, "wl-copy", "/bin/cat > /dev/null; exit 1")  # no compositor to talk to
    tool(bin_dir, "xclip", "exec /bin/sleep 30")  # an X server that never answers
    out = tool(bin_dir, "xsel", WRITES)
    monkeypatch.setattr(clipboard, "TIMEOUT", 0.5)
    env = {"PATH": str(bin_dir), "WAYLAND_DISPLAY": "w", "DISPLAY": ":0"}
    text = "naïve café — 漢字\nsecond line\n"
    assert clipboard.copy(text, env, "linux") == "xsel"
    assert out.read_text(encoding="utf-8") == text  # exactly, in UTF-8


def test_clip_exe_gets_utf16_with_a_byte_order_mark(tmp_path: Path) -> None:
    out = tool(tmp_path / "bin", "clip.exe", WRITES)
    assert clipboard.copy("é漢", {"PATH": str(tmp_path / "bin")}, "win32") == "clip.exe"
    assert out.read_bytes() == "é漢".encode("utf-16")
    assert out.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")


def test_no_tool_is_none_and_the_text_can_be_saved_privately(tmp_path: Path) -> None:
    assert clipboard.copy("x", {"PATH": str(tmp_path)}, "linux") is None
    first = clipboard.save("some text", tmp_path / "new" / "folder")
    second = clipboard.save("more text", tmp_path / "new" / "folder")  # the same second
    assert first != second
    assert first.read_text() == "some text" and second.read_text() == "more text"
    assert first.stat().st_mode & 0o777 == 0o600
