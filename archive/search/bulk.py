"""Analysing many passages at once (reindexing a whole catalog): in worker processes when there
is enough work, with the analysed word forms kept in a forms table (archive.forms), so that
neither a new process nor a worker analyses again what an earlier one did.

Workers come from a `forkserver` context: the server process is started once per parent
process, single-threaded (the parent may run threads: a web server, tantivy's writer, so `fork`
is unsafe), imports the main module and this one once, and forks each worker from itself. As
with `spawn`, the main module must import without side effects (`if __name__ == "__main__"`).
Measured on a 2-core machine: a pool of 2 workers, first answer back, 0.21 s for the first
pool (server start and imports), 0.02 s for every later one; `spawn` pays 0.25-0.35 s every
time, since each worker starts an interpreter and imports archive.search (pydantic, rapidfuzz:
0.17 s) and the main module.

Each worker loads the forms table once, read-only, at start, and returns with each chunk the
forms it had to analyse anew; the parent saves them. Workers do not share what they analyse
until the next run: cold, each analyses most of the vocabulary again, and loads HanTa (2.6 s,
about 350 MB each). At most IN_FLIGHT chunks per worker are out at once, so a million passages
never sit in memory together, and batches come back in input order. A worker's exception is
raised in the parent (when its batch is due), a worker that dies breaks the pool
(BrokenProcessPool) rather than hanging it, workers leave Ctrl-C to the parent, which then
shuts the pool down after the chunks under way, and exit when the parent is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from itertools import chain, islice
from multiprocessing.process import BaseProcess
from pathlib import Path

from archive import analysis
from archive.analysis import Form, IndexFields, index_fields, words
from archive.forms import FormsStore

Batch = list[tuple[int, IndexFields]]
IN_FLIGHT = 2  # chunks per worker submitted and not yet yielded: one analysed, one waiting
START_METHOD = "forkserver"


def analysed_rows(
    rows: Iterable[tuple[int, str]],
    *,
    forms: Path | None,
    workers: int | None = None,
    chunk: int = 2_000,
) -> Iterator[Batch]:
    """The `index_fields` of each passage text (rowid, text), in batches of `chunk` passages, in
    input order.

    `workers` processes (None: one per CPU but one, since the caller, writing the index, costs
    about as much CPU per passage as the analysis) analyse them when there are at least two
    chunks of passages; with fewer, or `workers=0`, the calling process does, and starts no pool
    (indexing a few statements must not wait for processes to start). `forms` is the forms
    table to read and add to, None for none."""
    if chunk < 1:
        raise ValueError(f"chunk must be positive, not {chunk}")
    count = (os.cpu_count() or 1) - 1 if workers is None else workers
    rows = iter(rows)
    head = list(islice(rows, 2 * chunk))
    enough = len(head) == 2 * chunk
    if count < 1 or not enough:
        yield from _in_process(chain(head, rows), forms, chunk, load=enough)
    else:
        yield from _in_workers(chain(head, rows), forms, count, chunk)


def _chunks(rows: Iterator[tuple[int, str]], size: int) -> Iterator[list[tuple[int, str]]]:
    """Chunks of plain tuples (sqlite3.Row objects do not pickle)."""
    while chunk := [(rowid, text) for rowid, text in islice(rows, size)]:
        yield chunk


def _in_process(
    rows: Iterator[tuple[int, str]], forms: Path | None, chunk: int, *, load: bool
) -> Iterator[Batch]:
    """Analysis in this process. The table is loaded only for much work (loading costs about a
    microsecond a form, for all of them); the forms analysed anew are saved after each chunk."""
    store = FormsStore(forms) if forms is not None else None
    try:
        if store is not None and load:
            store.load()
        for part in _chunks(rows, chunk):
            batch = [(rowid, index_fields(text)) for rowid, text in part]
            if store is not None:  # every word, not only those new to this process's memo
                store.save_words(word for _, text in part for word in words(text))
            yield batch
    finally:
        if store is not None:
            store.close()


def _in_workers(
    rows: Iterator[tuple[int, str]], forms: Path | None, workers: int, chunk: int
) -> Iterator[Batch]:
    with ExitStack() as stack:
        # Opened first: it empties a table of another analyser version before workers read it.
        store = stack.enter_context(FormsStore(forms)) if forms is not None else None
        context = multiprocessing.get_context(START_METHOD)
        context.set_forkserver_preload(["__main__", __name__])
        pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(forms,)
        )
        stack.callback(pool.shutdown, wait=True, cancel_futures=True)
        pending: deque[Future[tuple[Batch, dict[str, Form]]]] = deque()
        for part in _chunks(rows, chunk):
            pending.append(pool.submit(_analyse, part))
            if len(pending) >= IN_FLIGHT * workers:
                yield _collected(pending.popleft(), store)
        while pending:
            yield _collected(pending.popleft(), store)


def _collected(future: Future[tuple[Batch, dict[str, Form]]], store: FormsStore | None) -> Batch:
    batch, new = future.result()
    if store is not None and new:
        store.save(new)
    return batch


def _start_worker(forms: Path | None) -> None:
    """A worker's start: Ctrl-C is the parent's to handle; the worker exits when the parent is
    gone (a killed parent leaves its workers waiting for work forever otherwise: each holds
    the forkserver open, so it does not notice either); the forms table is loaded once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    if forms is not None:
        with FormsStore(forms, readonly=True) as store:
            store.load()


def _exit_with(parent: BaseProcess) -> None:
    parent.join()
    os._exit(1)


def _analyse(rows: list[tuple[int, str]]) -> tuple[Batch, dict[str, Form]]:
    """A chunk's fields, and the forms analysed anew for it (for the parent to save)."""
    batch = [(rowid, index_fields(text)) for rowid, text in rows]
    return batch, analysis.new_forms()
