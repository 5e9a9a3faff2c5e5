"""What a CLI command itself printed, from a Typer runner's result."""

from __future__ import annotations

from typer.testing import Result


def without_metrics(result: Result) -> Result:
    """The command's own output: a local system's functions may run in this process (the
    shared test system's pump, in the background) and flush their metrics (EMF lines,
    `{"_aws": ...}`) to its stdout, which the runner captures too."""
    kept = [line for line in result.output.splitlines(True) if not line.startswith('{"_aws"')]
    result.output_bytes = "".join(kept).encode()
    return result
