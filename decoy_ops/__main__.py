"""`python -m decoy_ops --help`."""

from decoy_ops.cli import main

raise SystemExit(main())
