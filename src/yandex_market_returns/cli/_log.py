"""The client's log on stderr: its warnings always, each retry and why with ``-v``."""

import logging
from typing import Any


class Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The command's own, told from a service's handlers: the progress display moves only this one above
    the line it draws."""


def to(stderr: Any, level: int) -> None:
    """One handler of ours, however often ``main`` runs."""
    logger = logging.getLogger("yandex_market_returns")
    for earlier in [handler for handler in logger.handlers if isinstance(handler, Handler)]:
        logger.removeHandler(earlier)
    handler = Handler(stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
