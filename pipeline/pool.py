"""The fork server that a build's worker processes start from.

Workers start from a fork server that has imported pipeline.worker (the modules they run
and the division index), not from the loading process: a worker's memory limit then
measures the document, not the loader's heap, and no process is forked while the pool's
own threads run. Importing this module imports nothing of the pipeline's: `pipeline build`
starts the server first, so that it gets ready (about a second) while the loading process
imports its own modules and opens the database, not after.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

WORKER_MODULES = ["pipeline.worker"]


def start_fork_server() -> "BaseContext":
    """The workers' context, its fork server started now unless it runs already (it imports
    WORKER_MODULES in the background: this returns at once)."""
    import multiprocessing
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_MODULES)
    forkserver.ensure_running()
    return context
