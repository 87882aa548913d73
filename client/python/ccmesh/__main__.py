"""``python3 -m ccmesh``: see ccmesh.cli."""

import sys

from .cli import main

sys.exit(main())
