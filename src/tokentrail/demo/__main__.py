"""Entry point of ``python -m tokentrail.demo``."""

from .cli import main

raise SystemExit(main())
