"""What a build's worker processes share: imported once by the fork server they start from.

Importing this module builds, in the fork server, what every worker would otherwise build
for itself: the division index (about a third of a second) and the vocabularies. Workers
are forked from that server, so each inherits them ready; a worker is replaced every
TASKS_PER_WORKER documents, and a 1,000-town build starts twenty.
"""

from pipeline import builds, db, documents  # noqa: F401  (the modules a worker runs)
from pipeline.divisions import atlas

atlas()
