"""`python -m living_theories.cli`."""

from . import run

run()
