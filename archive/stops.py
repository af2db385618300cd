"""Named points where a test may kill the process, to show that a crash there loses nothing.

Only tests set STADTSTIMME_STOP_AT (to one point's name); then the process kills itself with
SIGKILL on reaching that point, as a power cut or the OOM killer would stop it: no exception
handler, no `finally`, no atexit runs. Unset, a point costs one dictionary lookup.

The points (grep for their names):
- `index:added`: a statement's passages are in the index writer, not committed;
- `index:committed`: the index committed, the catalog not yet marked the statement indexed;
- `takedown:catalog`: a takedown committed in the catalog, the index not yet changed;
- `rebuild:built`: a new index generation written, not swapped in;
- `rebuild:swapped`: the new generation answers, the catalog's statuses not yet committed;
- `job:claimed`: a worker has claimed a job (running under its name), nothing else done;
- `fetch:downloading`: half of a download is in the work folder (not yet in the media folder);
- `fetch:downloaded`: the media landed whole in the media folder, not yet recorded;
- `transcribe:saved`: the transcript saved (statement transcribed), not yet indexed;
- `retranscribe:saved`: a re-transcription saved with its corrections, not yet re-indexed;
- `job:indexed`: the job's statement indexed, the job not yet marked done.
"""

from __future__ import annotations

import os
import signal

STOP_ENV = "STADTSTIMME_STOP_AT"


def stop_point(name: str) -> None:
    if os.environ.get(STOP_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def alive(pid: int) -> bool:
    """Whether a process of this machine with that pid lives (a crashed writer's or worker's
    leftovers are cleaned up only once it is gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True
