"""What every command shares: bad input is one line and exit status 2."""

from __future__ import annotations

import argparse
from typing import NoReturn

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad input from the user: one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are a UsageError (one line), not argparse's exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")
