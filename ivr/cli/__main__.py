"""Run the CLI as `python -m ivr.cli`."""
import sys

from ivr.cli import main

sys.exit(main())
