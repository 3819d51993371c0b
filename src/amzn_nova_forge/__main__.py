"""``python -m amzn_nova_forge`` runs the ``nova-forge`` CLI."""

from __future__ import annotations

import sys

from amzn_nova_forge.cli._main import main

sys.exit(main())
