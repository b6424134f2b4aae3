"""What every subcommand of `hotline` shares, for the packages that add their own.

A bad setting or a failed step prints one line naming the problem and
exits with status 2 (:func:`fail`), never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from core.settings import Settings, load_settings


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings of this run (``--config`` if the subcommand has it)."""
    return load_settings(config_file=getattr(args, "config", None))


def fail(message: str, code: int = 2) -> int:
    print(f"hotline: {message}", file=sys.stderr)
    return code
