"""The config file's errors: the exception, and the sentences for a file that cannot be read."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path


class ConfigError(Exception):
    """The config file cannot be used; the message names the file and the place."""


def too_deep(path: Path) -> str:
    """The sentence for a file whose arrays or tables are nested too deep to be read."""
    return (
        f"{path}: arrays or tables are nested inside each other too deep to be read. "
        "Fix the file or move it aside."
    )


def toml_error(path: Path, error: tomllib.TOMLDecodeError) -> ConfigError:
    """The sentence for TOML that does not parse, with its line and column when known."""
    text = str(error)
    match = re.search(r"\(at line (\d+), column (\d+)\)", text)
    reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", text) or "invalid TOML"
    if match:
        where = f"line {match.group(1)}, column {match.group(2)}"
        return ConfigError(f"{path}: {where}: {reason}. Fix the file or move it aside.")
    return ConfigError(f"{path}: {reason}. Fix the file or move it aside.")
