"""``llamachat providers`` and ``llamachat models``: what is configured, and what it offers."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from llamachat.exit_codes import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from llamachat.terminal import say_error, shown


def _table(rows: list[list[str]]) -> str:
    """Aligned columns; a cell from a config, a server or a file is escaped on a terminal."""
    rows = [[shown(cell, sys.stdout, 200) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def run_providers(args: argparse.Namespace) -> int:
    """Print each provider: name, kind, base URL, key presence (never the key), default model."""
    from llamachat.config import default_provider_name, load_config
    from llamachat.config_errors import ConfigError
    from llamachat.providers.registry import build_provider
    from llamachat.secrets import redact_url

    try:
        config = load_config()
    except ConfigError as err:
        say_error(str(err))
        return EXIT_USAGE
    for warning in config.warnings:
        say_error(f"warning: {warning}")
    default = default_provider_name(config)
    entries = []
    for name, settings in config.providers.items():
        provider = build_provider(settings, config.network)
        if not provider.capabilities.needs_key and not provider.key_source:
            key = "not needed"
        elif provider.key_source:
            key = f"yes ({provider.key_source})"
        else:
            hint = provider.key_env[0] if provider.key_env else "api_key in config"
            key = f"missing (set {hint})"
        entries.append(
            {
                "name": name,
                "kind": settings.kind,
                "display_name": provider.display_name,
                "base_url": redact_url(provider.base_url) or "(offline)",
                "key": key,
                "default_model": provider.default_model() or "",
                "default": name == default,
            }
        )
    if args.json:
        json.dump(entries, sys.stdout, indent=2)
        print()
        return EXIT_OK
    rows = [["NAME", "KIND", "BASE URL", "KEY", "DEFAULT MODEL"]]
    for entry in entries:
        marker = "*" if entry["default"] else " "
        rows.append(
            [
                f"{marker}{entry['name']}",
                str(entry["kind"]),
                str(entry["base_url"]),
                str(entry["key"]),
                str(entry["default_model"]),
            ]
        )
    print(_table(rows))
    print("\n* the default provider")
    return EXIT_OK


def _price(value: float | None) -> str:
    return "" if value is None else f"${value:g}"


def run_models(args: argparse.Namespace) -> int:
    """Print the models of one provider, from its API where it has one."""
    from llamachat.config import load_config
    from llamachat.config_errors import ConfigError
    from llamachat.providers.errors import ProviderError
    from llamachat.providers.registry import build_provider
    from llamachat.resolve import provider_settings

    try:
        config = load_config()
        settings = provider_settings(
            config, args.provider, args.base_url, args.api_key_env, args.send_key
        )
    except ConfigError as err:
        say_error(str(err))
        return EXIT_USAGE
    provider = build_provider(settings, config.network)

    async def fetch() -> list[object]:
        try:
            return list(await provider.list_models())
        finally:
            await provider.aclose()

    try:
        models = asyncio.run(fetch())
    except ProviderError as err:
        say_error(err.message)
        return EXIT_FAILURE
    from llamachat.providers.base import ModelInfo

    infos = [m for m in models if isinstance(m, ModelInfo)]
    if args.json:
        json.dump(
            [
                {
                    "id": m.id,
                    "context_length": m.context_length,
                    "usd_per_mtok_in": m.usd_per_mtok_in,
                    "usd_per_mtok_out": m.usd_per_mtok_out,
                    "vision": m.vision,
                }
                for m in infos
            ],
            sys.stdout,
            indent=2,
        )
        print()
        return EXIT_OK
    rows = [["MODEL", "CONTEXT", "$/M IN", "$/M OUT", "IMAGES"]]
    for m in infos:
        rows.append(
            [
                m.id,
                f"{m.context_length:,}" if m.context_length else "",
                _price(m.usd_per_mtok_in),
                _price(m.usd_per_mtok_out),
                "yes" if m.vision else "",
            ]
        )
    print(_table(rows))
    return EXIT_OK
