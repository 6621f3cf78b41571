"""``python -m autograd_tiny`` runs the command line."""

from .cli import main

raise SystemExit(main())
