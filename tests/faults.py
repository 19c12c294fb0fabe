"""Run the pipeline CLI with a fault injected, for tests that kill a real build.

    python -m tests.faults MARKER pipeline-arguments…

The build pauses after load_document has written a document's rows and before its
transaction commits: it writes its pid to MARKER and sleeps, so the test can SIGKILL it.
With PAUSE_AFTER_LOADS=N in the environment, the first N documents load and commit first.
Production code holds no hook for this; the wrapper patches it in from here.
"""

import functools
import os
import sys
import time
from pathlib import Path
from typing import Any

from pipeline import loads
from pipeline.cli import main


def pausing(marker: Path, load: Any, after: int = 0) -> Any:
    calls = []

    @functools.wraps(load)
    def load_then_pause(*args: Any, **kwargs: Any) -> Any:
        result = load(*args, **kwargs)
        calls.append(None)
        if len(calls) <= after:
            return result
        marker.write_text(str(os.getpid()))
        time.sleep(600)
        return result

    return load_then_pause


if __name__ == "__main__":
    marker = Path(sys.argv.pop(1))
    after = int(os.environ.get("PAUSE_AFTER_LOADS", "0"))
    loads.load_document = pausing(marker, loads.load_document, after)  # type: ignore[assignment]
    main()
