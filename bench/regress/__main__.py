"""`python -m bench.regress`: the same as `python -m bench regress`."""

import sys

from bench.regress.cli import main

sys.exit(main())
