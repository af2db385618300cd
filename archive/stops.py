"""Named points where a test may kill the process, to show that a crash there loses nothing.

Only tests set STADTSTIMME_STOP_AT (to one point's name); then the process kills itself with
SIGKILL on reaching that point, as a power cut or the OOM killer would stop it: no exception
handler, no `finally`, no atexit runs. Unset, a point costs one dictionary lookup.

The points (grep for their names):
- `index:added`: a statement's passages are in the index writer, not committed;
- `index:committed`: the index committed, the catalog not yet marked the statement indexed;
- `takedown:catalog`: a takedown committed in the catalog, the index not yet changed;
- `rebuild:built`: a new index generation written, not swapped in;
- `rebuild:swapped`: the new generation answers, the catalog's statuses not yet committed.
"""

from __future__ import annotations

import os
import signal

STOP_ENV = "STADTSTIMME_STOP_AT"


def stop_point(name: str) -> None:
    if os.environ.get(STOP_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
