"""Faults injected from the tests into a build's workers (never from production code).

run_stage pickles the stage by name, so these live in an importable module.
"""

import os
import signal
import time
from pathlib import Path

from pipeline.budgets import Budget
from pipeline.builds import Loadable, prepare_path


def killed_on_kill(path: Path, budget: Budget | None, debug: bool) -> Loadable:
    """prepare_path, except that a file named *kill* gets its worker SIGKILLed, as the
    out-of-memory killer would."""
    if "kill" in path.name:
        os.kill(os.getpid(), signal.SIGKILL)
    return prepare_path(path, budget, debug)


def hangs_on_hang(path: Path, budget: Budget | None, debug: bool) -> Loadable:
    """prepare_path, except that a file named *hang* never finishes."""
    while "hang" in path.name:
        time.sleep(1)
    return prepare_path(path, budget, debug)
