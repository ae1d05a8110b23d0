"""Provider adapters behind one protocol (see :mod:`llamachat.providers.base`)."""
