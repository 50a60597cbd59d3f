"""``python -m cartoonbrain.cli ARGS``: the ``cartoonbrain`` command."""

import sys

from . import main

sys.exit(main())
