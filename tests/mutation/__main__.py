"""``python -m tests.mutation [module ...] [--sample N]``: see tests/mutation/runner.py."""

import sys

from tests.mutation.runner import main

sys.exit(main())
