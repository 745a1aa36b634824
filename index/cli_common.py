"""What the commands of `python -m index` share: exit statuses, argument types, the
encoder and the opened index."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .settings import Settings

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from low (to high)."""
    wanted = f"a whole number from {low} to {high}" if high is not None else f"a whole number of {low} or more"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, not {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {wanted}, not {text}")
        return value
    return parse


def seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, not {text!r}") from None
    if not 0 < value < float("inf"):  # NaN compares false too
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, not {text}")
    return value


def make_encoder(settings: Settings) -> Any:
    from .embed import Encoder

    return Encoder(settings.model)


async def open_index(settings: Settings) -> Any:
    from .service import DocketIndex

    return await DocketIndex(settings, make_encoder(settings)).open()
