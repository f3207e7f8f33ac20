"""``python -m model.scenarios``: run scenario files (``model.scenarios.runner.main``)."""

import sys

from model.scenarios.runner import main

sys.exit(main())
