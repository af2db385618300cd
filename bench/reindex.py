"""Benchmark: how fast is a reindex, stage by stage? (Goal: >= 5,000 passages/s at 1,000,000
passages with the analyser's word forms already known, i.e. from the forms table; the cold
figure is reported too.)

It reads a catalog built by `bench/search.py --keep` (read-only: immutable when there is no
-wal file) and runs each stage in a new process, as a `stadtstimme reindex` would, on the first
--limit passages in row id order:

- read: `SELECT id, text FROM passages ORDER BY id`, every row fetched;
- cold 0: `archive.search.bulk.analysed_rows(workers=0)`, the analysis in the one process,
  with no forms table to start from (HanTa's loading included), filling a new one;
- cold N: the same with N worker processes, into a forms table of its own;
- load: `FormsStore.load()` of the table `cold 0` filled, read-only;
- warm 0, warm 1, warm N: `analysed_rows` from that table, in the process or with 1 or N
  workers (with no new word form to save: the table's row count is shown before and after);
- tantivy 0, tantivy 1, tantivy N: warm, each batch added to a tantivy writer with
  archive.search.tantivy's schema and documents as a rebuild writes them (tantivy.Rebuilding:
  each passage with its statement's date, and one document per statement; the statements read
  from the catalog first, in the timed stage; not the metadata documents, three at most a
  statement) in a temporary directory, then the commit; the parent's time in the writer is
  shown apart.

Analysis stages include reading the rows (the read stage shows what that costs). Rates are
passages per second of the whole stage, from the first row read to the last batch (and the
commit); the new process's start-up is not counted. Forms tables and the index go to a
temporary directory, removed at the end. --verify digests every passage's fields (BLAKE2b, in
the timed loop) and checks that all stages agree.

    python bench/reindex.py /tmp/b1m/search-100000/catalog.sqlite3 [--limit N] [--workers 2]
        [--chunk 2000] [--stages read cold0 ...] [--verify] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive import analysis
from archive.forms import FormsStore
from archive.search.bulk import analysed_rows

GOAL = 5_000.0
SEPARATOR = "\x1f"


@dataclass
class Figures:
    """One stage's result, printed by the child as JSON on its last line."""

    stage: str
    workers: int
    passages: int = 0
    seconds: float = 0.0
    cpu: float = 0.0  # CPU seconds of the stage's process and its workers
    load: str = ""  # the 1-minute load average when the stage began
    notes: list[str] = field(default_factory=list)
    digest: str = ""

    @property
    def rate(self) -> float:
        return self.passages / self.seconds if self.seconds else 0.0

    @property
    def cpu_rate(self) -> float:
        return self.passages / self.cpu if self.cpu else 0.0


def connect(catalog: Path) -> sqlite3.Connection:
    """The catalog, read-only: immutable (no locks, no -shm file made) unless a -wal file holds
    part of it."""
    uri = catalog.resolve().as_uri() + "?mode=ro"
    if not catalog.with_name(catalog.name + "-wal").exists():
        uri += "&immutable=1"
    return sqlite3.connect(uri, uri=True)


def passage_rows(db: sqlite3.Connection, limit: int) -> Iterator[tuple[int, str]]:
    yield from db.execute("SELECT id, text FROM passages ORDER BY id LIMIT ?", (limit,))


def forms_count(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM forms").fetchone()[0])


def cpu_ticks(pid: int) -> tuple[int, int]:
    """A live process's parent and CPU time so far (user and system, clock ticks)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def descendants() -> list[int]:
    """This process's descendants (the forkserver and the workers it forked)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = cpu_ticks(int(entry.name))[0]
            except (OSError, ValueError):  # gone meanwhile
                continue
    found = {os.getpid()}
    while grown := {pid for pid, parent in parents.items() if parent in found} - found:
        found |= grown
    return sorted(found - {os.getpid()})


class WorkerClock:
    """The CPU time the worker processes have used, sampled after every batch (the last
    sample misses a little: the workers exit before the last batch is counted)."""

    def __init__(self) -> None:
        self.pids: list[int] | None = None
        self.ticks: dict[int, int] = {}

    def sample(self) -> None:
        if self.pids is None:
            self.pids = descendants()
        for pid in self.pids:
            try:
                self.ticks[pid] = cpu_ticks(pid)[1]
            except (OSError, ValueError):
                continue

    @property
    def seconds(self) -> float:
        return sum(self.ticks.values()) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def statements_by_seq(catalog: Path) -> dict[int, Any]:
    """The catalog's statements by seq (a rebuild reads them first, too)."""
    from archive.catalog import Catalog
    from archive.models import Status

    with Catalog(catalog, readonly=True) as opened:
        found = opened.statements_with(list(Status))
    return {s.seq: s for s in found if s.seq is not None}


def tantivy_writer(directory: Path) -> Any:
    """A writer on a new index with archive.search.tantivy's schema."""
    import tantivy

    from archive.search import tantivy as engine

    index = tantivy.Index(engine.build_schema(), path=str(directory))
    return index.writer(engine.BUILD_HEAP, engine.WRITER_THREADS)


def run_stage(args: argparse.Namespace) -> Figures:
    """One stage, in this (new) process."""
    stage, workers = args.stage, args.stage_workers
    done = Figures(stage, workers, load=f"{os.getloadavg()[0]:.1f}")
    db = connect(args.catalog)
    forms: Path = args.forms
    began, cpu = time.perf_counter(), own_cpu()
    if stage == "read":
        for _rowid, _text in passage_rows(db, args.limit):
            done.passages += 1
        done.seconds, done.cpu = time.perf_counter() - began, own_cpu() - cpu
        return done
    if stage == "load":
        with FormsStore(forms, readonly=True) as store:
            done.passages = store.load()  # forms, not passages
        done.seconds, done.cpu = time.perf_counter() - began, own_cpu() - cpu
        return done
    before = forms_count(forms)
    writer = written = None
    in_writer = 0.0
    if stage == "tantivy":
        from archive.search.tantivy import Rebuilding

        folder = Path(tempfile.mkdtemp(prefix="index-", dir=args.forms.parent))
        writer = tantivy_writer(folder)
        written = Rebuilding(writer, statements_by_seq(args.catalog))
    digest = hashlib.blake2b(digest_size=16)
    clock = WorkerClock()
    for batch in analysed_rows(
        passage_rows(db, args.limit), forms=forms, workers=workers, chunk=args.chunk
    ):
        done.passages += len(batch)
        if workers:
            clock.sample()
        if args.verify:
            for rowid, fields in batch:
                digest.update(f"{rowid}{SEPARATOR}{SEPARATOR.join(fields)}{SEPARATOR}".encode())
        if written is not None:
            started = time.perf_counter()
            for rowid, fields in batch:
                written.add(rowid, fields)
            in_writer += time.perf_counter() - started
    if writer is not None and written is not None:
        started = time.perf_counter()
        written.finish()
        writer.commit()
        writer.wait_merging_threads()
        committed = time.perf_counter() - started
        in_writer += committed
        done.notes.append(
            f"writer {in_writer:.1f} s in this process, of it commit {committed:.1f} s"
        )
    done.seconds, done.cpu = time.perf_counter() - began, own_cpu() - cpu
    if workers:
        done.notes.append(f"CPU {done.cpu:.1f} s in this process, {clock.seconds:.1f} s in workers")
        done.cpu += clock.seconds
    done.digest = digest.hexdigest() if args.verify else ""
    hanta = "loaded" if analysis._splitters.tagger is not None else "not loaded"
    done.notes.append(f"forms table {before:,} -> {forms_count(forms):,}; HanTa here {hanta}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    done.notes.append(f"peak RSS here {peak:,} MB")
    return done


# (stage, workers or None for --workers, forms table)
PLAN: dict[str, tuple[str, int | None, str]] = {
    "read": ("read", 0, "cold0"),
    "cold0": ("cold", 0, "cold0"),
    "coldN": ("cold", None, "coldN"),
    "load": ("load", 0, "cold0"),
    "warm0": ("warm", 0, "cold0"),
    "warm1": ("warm", 1, "cold0"),
    "warmN": ("warm", None, "cold0"),
    "tantivy0": ("tantivy", 0, "cold0"),
    "tantivy1": ("tantivy", 1, "cold0"),
    "tantivyN": ("tantivy", None, "cold0"),
}


def in_new_process(args: argparse.Namespace, name: str, folder: Path) -> Figures:
    stage, workers, table = PLAN[name]
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        str(args.catalog),
        *("--limit", str(args.limit), "--chunk", str(args.chunk)),
        *("--stage", stage, "--stage-workers", str(args.workers if workers is None else workers)),
        *("--forms", str(folder / f"{table}.sqlite3")),
        *(["--verify"] if args.verify else []),
    ]
    ran = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return Figures(**json.loads(ran.stdout.strip().splitlines()[-1]))


def report(args: argparse.Namespace, results: list[Figures]) -> None:
    print(
        "workers 0: in the stage's process, no pool; per s: passages (forms for load) per second"
        " of wall time; per CPU s: per second of CPU time (all processes of the stage)"
    )
    print(
        f"  {'stage':<10}{'workers':>8}{'passages':>11}{'seconds':>9}{'per s':>10}"
        f"{'CPU s':>8}{'per CPU s':>11}{'load':>6}"
    )
    for done in results:
        print(
            f"  {done.stage:<10}{done.workers:>8}{done.passages:>11,}{done.seconds:>9.1f}"
            f"{done.rate:>10,.0f}{done.cpu:>8.1f}{done.cpu_rate:>11,.0f}{done.load:>6}"
        )
        for note in done.notes:
            print(f"  {'':<10}{note}")
    for stages, what in ((("tantivy",), "reindex with tantivy"), (("warm",), "analysis alone")):
        warm = [d for d in results if d.stage in stages]
        if warm:
            best = max(warm, key=lambda d: d.rate)
            verdict = "met" if best.rate >= GOAL else "MISSED"
            print(
                f"goal >= {GOAL:,.0f} passages/s with the word forms known, {what}: {verdict} "
                f"(best: {best.workers} workers, {best.rate:,.0f}/s)"
            )
    digests = {d.digest for d in results if d.digest}
    if digests:
        print(f"fields agree across analysis stages: {'yes' if len(digests) == 1 else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("catalog", type=Path)
    parser.add_argument("--limit", type=int, default=-1, help="first N passages (default all)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk", type=int, default=2_000)
    parser.add_argument("--stages", nargs="+", choices=list(PLAN), default=list(PLAN))
    parser.add_argument("--verify", action="store_true")
    parser.add_argument("--dir", type=Path, default=None, help="for the temporary directory")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--stage-workers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--forms", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.catalog.is_file():
        parser.error(f"no catalog at {args.catalog}")
    if args.stage:
        print(json.dumps(asdict(run_stage(args))))
        return
    print("$ python " + shlex.join(sys.argv))
    print(
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start; "
        f"workers {args.workers}, chunk {args.chunk}"
    )
    folder = Path(tempfile.mkdtemp(prefix="reindex-bench-", dir=args.dir))
    results: list[Figures] = []
    try:
        for name in args.stages:
            results.append(in_new_process(args, name, folder))
            done = results[-1]
            print(f"  ... {name}: {done.passages:,} in {done.seconds:.1f} s", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(args, results)


if __name__ == "__main__":
    main()
