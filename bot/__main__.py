"""`python -m bot`: the LaunchWatch command line."""

import sys

from bot.cli import main

# Guarded: a `spawn` worker process (bot/pictures/render.py) imports this module again.
if __name__ == "__main__":
    sys.exit(main())
