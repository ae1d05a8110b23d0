"""Allow ``python -m llamachat``."""

from llamachat.cli import main

raise SystemExit(main())
