"""``python -m autocnn`` runs the command-line interface."""

import sys

from autocnn.cli import main

sys.exit(main())
