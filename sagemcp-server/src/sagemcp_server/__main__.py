"""`python -m sagemcp_server` is `sagemcp`."""

import sys

from .cli import main

sys.exit(main())
