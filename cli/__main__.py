"""`python -m cli ...`."""

from cli import app

app()
