"""Logging for CLI runs: one handler per logger, always writing to the current stderr.

A plain ``StreamHandler`` keeps the stream it was created with; when the CLI runs
several times in one process (tests, notebooks) that stream may be closed by then.
This handler looks ``sys.stderr`` up at each record, and :func:`setup_logging` never
adds a second one.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO


class CurrentStderrHandler(logging.StreamHandler[TextIO]):
    """A ``StreamHandler`` bound to whatever ``sys.stderr`` is when a record is emitted."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        """The current ``sys.stderr``."""
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # ignored: always the current stderr
        pass


def setup_logging(
    level: int = logging.INFO,
    logger: str = "cropmap",
    fmt: str = "%(asctime)s %(message)s",
) -> logging.Logger:
    """Send ``logger``'s records at ``level`` and above to stderr (idempotent)."""
    log = logging.getLogger(logger)
    handler = next((h for h in log.handlers if isinstance(h, CurrentStderrHandler)), None)
    if handler is None:
        handler = CurrentStderrHandler()
        log.addHandler(handler)
    handler.setFormatter(logging.Formatter(fmt, "%H:%M:%S"))
    handler.setLevel(level)
    log.setLevel(level)
    return log
