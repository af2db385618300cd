"""A long-running process's lasting objects, kept out of the garbage collector's way.

CPython's full collections traverse every tracked container however long it has lived: the
analyser's caches of word forms (dicts of 130,000 forms and more), HanTa's model, the imported
modules. A searching process at a million passages (bench/search.py, caches warm) spent 21-26 ms
in each full collection, and one came every few searches, for each search allocates tens of
thousands of objects: they made the slowest searches. gc.freeze() moves every object alive into
the permanent generation, which no collection traverses; a full collection then took under
0.01 ms. A frozen object is still freed when nothing refers to it (reference counting); only a
reference cycle among frozen objects would stay, and what is frozen here lives as long as the
process. Short-lived processes (commands, tests) need not call it.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Exempt every object alive now from later collections: call it once the process holds
    what it keeps (a server after its start, after loading a model)."""
    gc.freeze()
