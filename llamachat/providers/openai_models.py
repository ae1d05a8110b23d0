"""A model from an OpenAI ``/models`` listing, with the context window and prices hosts add."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llamachat.numbers import money
from llamachat.providers.base import ModelInfo


def _number(value: Any) -> float | None:
    """A price from a listing: a finite, non-negative number (or numeric text), else ``None``."""
    return money(value)


def model_from_listing(entry: Mapping[str, Any], known: ModelInfo | None) -> ModelInfo:
    """A :class:`ModelInfo` from a ``/models`` entry, reading the fields hosts add."""
    meta = entry.get("metadata") if isinstance(entry.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    cpp = entry.get("meta") if isinstance(entry.get("meta"), Mapping) else {}  # llama.cpp
    assert isinstance(cpp, Mapping)
    context = None
    for source, name in (
        (entry, "context_length"),
        (entry, "context_window"),
        (entry, "max_model_len"),
        (meta, "context_length"),
        (cpp, "n_ctx"),
        (cpp, "n_ctx_train"),
    ):
        value = source.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            context = value
            break
    price_in = price_out = None
    pricing = entry.get("pricing")
    if isinstance(pricing, Mapping):  # OpenRouter: USD per token, as strings
        per_in, per_out = _number(pricing.get("prompt")), _number(pricing.get("completion"))
        price_in = per_in * 1e6 if per_in is not None else None
        price_out = per_out * 1e6 if per_out is not None else None
    meta_pricing = meta.get("pricing")
    if isinstance(meta_pricing, Mapping):  # DeepInfra: USD per million tokens
        price_in = _number(meta_pricing.get("input_tokens"))
        price_out = _number(meta_pricing.get("output_tokens"))
    return ModelInfo(
        id=str(entry["id"]),
        context_length=context or (known.context_length if known else None),
        usd_per_mtok_in=price_in
        if price_in is not None
        else (known.usd_per_mtok_in if known else None),
        usd_per_mtok_out=price_out
        if price_out is not None
        else (known.usd_per_mtok_out if known else None),
        vision=known.vision if known else None,
    )
