"""`python -m bot`: the LaunchWatch command line."""

import sys

from bot.cli import main

sys.exit(main())
