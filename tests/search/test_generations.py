"""Index generations and the projection protocol, on real tantivy, real SQLite and real processes:
a rebuild swapped in under searches that go on answering (in this process and in a serving
process), reconciliation after a crash, two writer processes at once, the sweep of leftover
generations, and the size of the index on disk.

Statements are written to the catalog as the pipeline writes them (claim, transcript) and indexed
only through archive.indexing, as every command does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from archive import indexing
from archive.analysis import term
from archive.catalog import Catalog, statement_id_for
from archive.indexing import (
    Reconciled,
    index_statement,
    prepare_index,
    rebuild,
    reconcile,
    take_down,
)
from archive.models import Passage, Segment, Statement, Status, Transcript, Word
from archive.search import Built, Query, search
from archive.search.tantivy import CURRENT, FORMS, TantivyEngine
from archive.stops import STOP_ENV

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
COMMON = "Leuchtturm"  # said in every statement
LETTERS = "bcdfghklmptvz"  # no vowel, n, r or s: no stemmer ending
WAIT_S = 120.0


def unique_word(number: int) -> str:
    """A made-up word for one statement only: Kennwort + three letters."""
    a, rest = divmod(number, len(LETTERS) ** 2)
    b, c = divmod(rest, len(LETTERS))
    return "Kennwort" + LETTERS[a] + LETTERS[b] + LETTERS[c]


def _passage(statement_id: str, position: int, text: str) -> Passage:
    words = tuple(Word(i * 0.5, i * 0.5 + 0.4, " " + w) for i, w in enumerate(text.split()))
    return Passage(statement_id, position, position * 60.0, position * 60.0 + 30.0, words)


def transcribe(catalog: Catalog, number: int, passages: int = 1) -> Statement:
    """A statement saved with its transcript (TRANSCRIBED), not indexed: its first passage says
    the common word and its own word, any further ones a word of their own each."""
    origin = f"generations:{number}"
    statement = catalog.claim(
        Statement(id=statement_id_for(origin), origin=origin, title=f"Statement {number}")
    )
    texts = [f"Der {COMMON} meldet heute {unique_word(number)} ."]
    texts += [f"Weiter mit Zusatz{unique_word(number)} Nummer {n}" for n in range(1, passages)]
    saved = [_passage(statement.id, n, text) for n, text in enumerate(texts)]
    segments = tuple(Segment(p.start, p.end, p.text, p.words) for p in saved)
    catalog.save_transcript(statement.id, Transcript("de", 120.0, segments), saved, None)
    return catalog.get(statement.id)


def seq_of(statement: Statement) -> int:
    assert statement.seq is not None
    return statement.seq


def indexed(catalog: Catalog, engine: TantivyEngine, number: int, passages: int = 1) -> Statement:
    statement = transcribe(catalog, number, passages)
    return index_statement(catalog, engine, statement.id)


def next_second() -> None:
    """Wait into the next second: a rebuild indexes anew, one commit each, every statement
    changed in the second it began (the catalog's timestamps count seconds)."""
    time.sleep(1.05 - time.time() % 1)


def current_generation(root: Path) -> str:
    pointer = json.loads((root / CURRENT).read_text(encoding="utf-8"))
    return str(pointer["generation"])


def generations(root: Path) -> set[str]:
    return {folder.name for folder in root.glob("g*-*") if folder.is_dir()}


def disk_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def finds(engine: TantivyEngine, text: str) -> set[str]:
    """The statements the query matches (the engine's: not a did-you-mean's correction)."""
    found = engine.search(Query(text, per_page=1000))
    assert found.total == len(found.statements)
    return {ranked.statement_id for ranked in found.statements}


def wait_until(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


# -- a serving process: a long-lived engine in another process ---------------------------------

SERVE = """
import json, os, sys, traceback
from pathlib import Path
from archive.catalog import Catalog
from archive.search import Query, search
from archive.search.tantivy import TantivyEngine

folder = Path(sys.argv[1])
with Catalog(folder / "catalog.sqlite3", readonly=True) as catalog:
    engine = TantivyEngine(catalog, folder / "index")
    for line in sys.stdin:
        try:
            results = search(catalog, engine, Query(line.strip(), per_page=1000), None)
            current = engine.layout.current()
            answer = {
                "total": results.total,
                "ids": [hit.id for hit in results.statements],
                "complete": all(hit.passages for hit in results.statements),
                "corrected": results.corrected,
                "generation": None if current is None else current.name,
                "pid": os.getpid(),
            }
        except Exception:
            answer = {"error": traceback.format_exc()}
        print(json.dumps(answer), flush=True)
"""


class Server:
    """A serving process that answers one search per line, as a web server would."""

    def __init__(self, folder: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )

    def ask(self, text: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the serving process ended (exit status {self.process.poll()})"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=WAIT_S)


@contextmanager
def serving(folder: Path) -> Iterator[Server]:
    server = Server(folder)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.close()


# -- searches in a loop, each answer recorded with the phase of the rebuild ---------------------


@dataclass(frozen=True)
class Answer:
    asked: str  # the phase of the rebuild when the search was asked
    answered: str  # and when it was answered
    total: int
    ids: frozenset[str]
    complete: bool  # every statement shown has passages
    generation: str | None
    error: str | None = None


@dataclass
class Phase:
    name: str = "before"


@dataclass
class Searches:
    """A thread that searches COMMON again and again, by `ask`, until stopped."""

    name: str
    ask: Callable[[], dict[str, Any]]
    phase: Phase
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            asked = self.phase.name
            try:
                got = self.ask()
            except Exception:  # noqa: BLE001 - every failure is an answer that the test reports
                got = {"error": traceback.format_exc()}
            answered = self.phase.name
            if "error" in got:
                failed = Answer(asked, answered, -1, frozenset(), False, None, got["error"])
                self.answers.append(failed)
                continue
            self.answers.append(
                Answer(
                    asked,
                    answered,
                    got["total"],
                    frozenset(got["ids"]),
                    got["complete"],
                    got["generation"],
                )
            )

    def more(self, count: int) -> None:
        """Wait for `count` answers asked from now on."""
        wanted = len(self.answers) + count + 1  # the one under way was asked before
        wait_until(lambda: len(self.answers) >= wanted, f"{count} answers from {self.name}")


def in_thread(folder: Path) -> Callable[[], dict[str, Any]]:
    """Searches in a thread of this process, with a catalog connection and engine of its own."""
    local = threading.local()

    def ask() -> dict[str, Any]:
        if not hasattr(local, "engine"):
            local.catalog = Catalog(folder / "catalog.sqlite3", readonly=True)
            local.engine = TantivyEngine(local.catalog, folder / "index")
        results = search(local.catalog, local.engine, Query(COMMON, per_page=1000), None)
        current = local.engine.layout.current()
        return {
            "total": results.total,
            "ids": [hit.id for hit in results.statements],
            "complete": all(hit.passages for hit in results.statements),
            "generation": None if current is None else current.name,
        }

    return ask


# -- (a) and (b): a rebuild under searches ------------------------------------------------------

OLD = 300  # statements of the generation that answers when the rebuild begins
NEW = 20  # transcribed when it begins: invisible until the rebuild marks them
PER_PHASE = 4  # answers from each searcher in each phase


def test_searches_answer_completely_while_a_rebuild_builds_and_swaps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A serving process and a thread of this one search throughout a rebuild of a few hundred
    statements, during which one statement is added and indexed and another taken down. Each
    phase answers exactly the statements the catalog shows then, from the generation that is
    current then; no answer fails or is partial. After the swap the old generation is gone and
    current.json names the new one."""
    root = tmp_path / "index"
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = TantivyEngine(catalog, root)
        numbered = [transcribe(catalog, n).id for n in range(OLD)]
        old = set(numbered)
        next_second()
        assert prepare_index(catalog, engine) == "built"
        first = current_generation(root)
        new = {transcribe(catalog, n).id for n in range(OLD, OLD + NEW)}
        down = numbered[0]
        late: set[str] = set()
        expected = {"before": old, "build": old}  # exactly, in each phase
        between: list[set[str]] = []  # what a search may also show while a change commits
        phase = Phase()
        with serving(tmp_path) as server:
            assert server.ask(COMMON)["total"] == OLD  # started, its engine open
            loops = [
                Searches("server", lambda: server.ask(COMMON), phase),
                Searches("thread", in_thread(tmp_path), phase),
            ]
            for loop in loops:
                loop.thread.start()

            def enter(name: str) -> None:
                phase.name = name
                for loop in loops:
                    loop.more(PER_PHASE)

            def building(done: int, total: int) -> None:
                """Called by the build, its passages added to the new generation, not yet
                committed: the old one answers, and takes changes."""
                assert (done, total) == (OLD + NEW, OLD + NEW)
                enter("build")
                phase.name = "changing"  # answers may show each change as it commits
                late.add(indexed(catalog, engine, OLD + NEW).id)
                between.append(old | late)
                take_down(catalog, engine, down)
                expected["changed"] = expected["swapped"] = old - {down} | late
                enter("changed")

            swap = engine.swap

            def swapping(built: Built) -> None:
                """Swapped in, the catalog's transaction (marking the new statements indexed)
                not yet committed: the new generation answers, the new statements unseen."""
                phase.name = "swapping"
                swap(built)
                assert current_generation(root) == built.name
                assert not (root / first).exists()
                enter("swapped")
                phase.name = "committing"  # answers show the new statements once it commits

            monkeypatch.setattr(engine, "swap", swapping)
            next_second()
            built = rebuild(catalog, engine, building)
            expected["done"] = old - {down} | late | new
            enter("done")
            for loop in loops:
                loop.stop.set()
                loop.thread.join(WAIT_S)
        # the swap
        assert current_generation(root) == built.name != first
        assert generations(root) == {built.name}
        assert set(built.statements) == {catalog.get(i).seq for i in old | new}
        assert finds(engine, COMMON) == expected["done"]
        assert finds(engine, unique_word(OLD + NEW)) == late  # indexed into it anew
        assert finds(engine, unique_word(0)) == set()
        assert engine.vocabulary.passages_with(term(unique_word(0))) == 0
        # every answer
        valid = {frozenset(ids) for ids in [*expected.values(), *between]}
        for loop in loops:
            answers = loop.answers
            assert [a.error for a in answers if a.error] == [], loop.name
            assert all(a.complete and a.total == len(a.ids) for a in answers), loop.name
            assert all(a.ids in valid for a in answers), loop.name
            for name, ids in expected.items():
                within = [a for a in answers if a.asked == a.answered == name]
                if name != "before":
                    assert len(within) >= PER_PHASE, (loop.name, name)
                generation = first if name in ("before", "build", "changed") else built.name
                assert all(a.ids == ids for a in within), (loop.name, name)
                assert all(a.generation == generation for a in within), (
                    loop.name,
                    name,
                    generation,
                    [a.generation for a in within],
                )


def test_a_serving_process_follows_each_swap_without_restarting(tmp_path: Path) -> None:
    root = tmp_path / "index"
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = TantivyEngine(catalog, root)
        ids = [indexed(catalog, engine, n).id for n in range(3)]
        first = current_generation(root)
        with serving(tmp_path) as server:
            answer = server.ask(COMMON)
            assert (answer["total"], answer["generation"]) == (3, first)
            pid = answer["pid"]
            answer = server.ask(unique_word(3))  # unknown: a neighbour's word found instead
            assert answer["corrected"] and len(answer["ids"]) == 1
            fourth = transcribe(catalog, 3)  # transcribed, not indexed: the rebuild indexes it
            next_second()
            second = rebuild(catalog, engine).name
            answer = server.ask(unique_word(3))
            assert (answer["ids"], answer["generation"], answer["pid"]) == (
                [fourth.id],
                second,
                pid,
            )
            assert server.ask(COMMON)["total"] == 4
            assert not (root / first).exists()
            take_down(catalog, engine, ids[0])  # a commit in the current generation
            assert set(server.ask(COMMON)["ids"]) == {*ids[1:], fourth.id}
            next_second()
            third = rebuild(catalog, engine).name
            answer = server.ask(COMMON)
            assert (answer["total"], answer["generation"], answer["pid"]) == (3, third, pid)
            assert generations(root) == {third}
            assert server.process.poll() is None


# -- (c) reconciliation ------------------------------------------------------------------------


def test_reconcile_brings_the_index_in_step_with_the_catalog(tmp_path: Path) -> None:
    """Each way a crash (or a lost index) leaves the index out of step, mended in one call:
    what the catalog no longer shows is removed (its words leave did-you-mean), what it wants
    shown is indexed and marked; a second call finds nothing to do."""
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = TantivyEngine(catalog, tmp_path / "index")
        lost = indexed(catalog, engine, 0)  # indexed, then lost from the index
        hidden = indexed(catalog, engine, 1)  # hidden in the catalog only (a crash)
        deleted = indexed(catalog, engine, 2)  # deleted from the catalog only
        waiting = transcribe(catalog, 3)  # transcribed, never indexed
        crashed = transcribe(catalog, 4)  # in the index, the catalog not yet told (a crash)
        grown = indexed(catalog, engine, 5)  # indexed with one passage, three now
        kept = indexed(catalog, engine, 6)
        seq = {s.id: seq_of(s) for s in (lost, hidden, deleted, waiting, crashed, grown, kept)}
        with catalog.transaction():
            engine.remove([seq[lost.id]])
        catalog.set_status(hidden.id, Status.HIDDEN)
        catalog.db.execute("DELETE FROM statements WHERE id = ?", (deleted.id,))
        with catalog.transaction():
            engine.index(crashed, catalog.passages(crashed.id))
        transcribe(catalog, 5, passages=3)
        catalog.set_status(grown.id, Status.INDEXED)
        assert engine.held() == {seq[s.id]: 1 for s in (hidden, deleted, crashed, grown, kept)}
        assert finds(engine, COMMON) == {kept.id, grown.id}

        assert reconcile(catalog, engine) == Reconciled(removed=2, indexed=4)

        visible = [lost, waiting, crashed, grown, kept]
        assert engine.held() == {seq[s.id]: 1 for s in visible} | {seq[grown.id]: 3}
        assert {s.id: catalog.get(s.id).status for s in visible} == {
            s.id: Status.INDEXED for s in visible
        }
        assert catalog.get(hidden.id).status == Status.HIDDEN
        assert catalog.find(deleted.id) is None
        assert finds(engine, COMMON) == {s.id for s in visible}
        assert finds(engine, "Zusatz" + unique_word(5)) == {grown.id}
        for gone in (1, 2):
            assert engine.vocabulary.passages_with(term(unique_word(gone))) == 0
        for shown in (0, 3, 4, 5, 6):
            assert engine.vocabulary.passages_with(term(unique_word(shown))) == 1
        assert reconcile(catalog, engine) == Reconciled(removed=0, indexed=0)


def test_reconcile_leaves_many_statements_to_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More than REBUILD_ABOVE statements to index: reconcile does nothing and says so (None),
    and prepare_index rebuilds instead; exactly REBUILD_ABOVE are still reconciled."""
    monkeypatch.setattr(indexing, "REBUILD_ABOVE", 2)
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = TantivyEngine(catalog, tmp_path / "index")
        first = indexed(catalog, engine, 0)
        waiting = [transcribe(catalog, n) for n in (1, 2)]
        assert reconcile(catalog, engine) == Reconciled(removed=0, indexed=2)  # not above
        waiting = [transcribe(catalog, n) for n in (3, 4, 5)]
        held = engine.held()
        generation = current_generation(tmp_path / "index")

        assert reconcile(catalog, engine) is None  # above: nothing done

        assert engine.held() == held
        assert {catalog.get(s.id).status for s in waiting} == {Status.TRANSCRIBED}
        next_second()
        assert prepare_index(catalog, engine) == "built"
        assert current_generation(tmp_path / "index") != generation
        assert len(engine.held()) == 6
        assert catalog.status_counts() == {Status.INDEXED: 6}
        assert first.id in finds(engine, COMMON)
        assert len(finds(engine, COMMON)) == 6
        assert prepare_index(catalog, engine) == "in step"


# -- (d) two writer processes ------------------------------------------------------------------

WRITE = """
import json, sys, time
from pathlib import Path
from archive.catalog import Catalog
from archive.indexing import index_statement
from archive.search.tantivy import TantivyEngine

folder, ids, go = Path(sys.argv[1]), sys.argv[2].split(","), Path(sys.argv[3])
with Catalog(folder / "catalog.sqlite3") as catalog:
    engine = TantivyEngine(catalog, folder / "index")
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.005)
    began = time.time()
    for statement_id in ids:
        index_statement(catalog, engine, statement_id)
    print(json.dumps([began, time.time()]), flush=True)
"""


def test_two_writer_processes_index_into_one_index_at_once(tmp_path: Path) -> None:
    """Two processes, each with its own catalog connection on one file, index statements of
    their own at the same time through index_statement: both succeed, and every statement is
    indexed, marked and searchable once."""
    each = 15
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = TantivyEngine(catalog, tmp_path / "index")
        assert prepare_index(catalog, engine) == "built"  # a new archive's first, empty index
        halves = [
            [transcribe(catalog, n).id for n in range(k * each, (k + 1) * each)] for k in (0, 1)
        ]
        go = tmp_path / "go"
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITE, str(tmp_path), ",".join(half), str(go)],
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            for half in halves
        ]
        try:
            for writer in writers:
                assert writer.stdout is not None
                assert writer.stdout.readline().strip() == "ready"
            go.touch()
            outputs = [writer.communicate(timeout=WAIT_S)[0] for writer in writers]
        finally:
            for writer in writers:
                if writer.poll() is None:
                    writer.kill()
                    writer.wait()
        assert [writer.returncode for writer in writers] == [0, 0]
        (began, ended), (other_began, other_ended) = [json.loads(out) for out in outputs]
        # each began to write before the other had ended (the catalog's write lock decides
        # the order of their statements: SQLite's busy handler is not fair, so one may wait)
        assert began < other_ended and other_began < ended
        everything = {*halves[0], *halves[1]}
        assert catalog.status_counts() == {Status.INDEXED: 2 * each}
        assert engine.held() == {catalog.get(i).seq: 1 for i in everything}
        assert finds(engine, COMMON) == everything
        for number in range(2 * each):
            found = finds(engine, unique_word(number))
            assert found == {halves[number // each][number % each]}


# -- (e) leftover generations ------------------------------------------------------------------

BUILD = """
import sys
from pathlib import Path
from archive.catalog import Catalog
from archive.indexing import INDEXABLE, rebuild
from archive.search.tantivy import TantivyEngine

folder = Path(sys.argv[1])
with Catalog(folder / "catalog.sqlite3") as catalog:
    engine = TantivyEngine(catalog, folder / "index")
    if sys.argv[2] == "rebuild":
        rebuild(catalog, engine)
    else:  # build, then wait to be told to end
        built = engine.build(catalog.statements_with(INDEXABLE), None)
        print(built.name, flush=True)
        sys.stdin.read()
"""


def test_generations_of_dead_builders_are_swept_and_those_of_live_ones_kept(
    tmp_path: Path,
) -> None:
    """A builder killed after building (the `rebuild:built` stop point) leaves its generation
    behind: the next swap removes it. A builder still running keeps its own until it ends."""
    root = tmp_path / "index"
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = TantivyEngine(catalog, root)
        for number in range(3):
            indexed(catalog, engine, number)
        first = current_generation(root)
        # a builder killed after building, before swapping
        killed = subprocess.Popen(
            [sys.executable, "-c", BUILD, str(tmp_path), "rebuild"],
            cwd=ROOT,
            env=os.environ | {STOP_ENV: "rebuild:built"},
        )
        assert killed.wait(timeout=WAIT_S) == -signal.SIGKILL
        (dead,) = generations(root) - {first}
        assert dead.endswith(f"-{killed.pid}") and (root / dead / "meta.json").is_file()
        # a builder still at work
        live = subprocess.Popen(
            [sys.executable, "-c", BUILD, str(tmp_path), "build"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            assert live.stdout is not None
            building = live.stdout.readline().strip()
            assert building.endswith(f"-{live.pid}") and (root / building).is_dir()
            assert current_generation(root) == first

            next_second()
            second = rebuild(catalog, engine).name

            assert generations(root) == {second, building}
            assert (root / building / "meta.json").is_file()
            assert current_generation(root) == second
        finally:
            assert live.stdin is not None
            live.stdin.close()
            live.wait(timeout=WAIT_S)
        next_second()
        third = rebuild(catalog, engine).name  # the builder has ended: its generation goes now
        assert generations(root) == {third}
        assert (root / FORMS).exists()  # not a generation: kept
        assert len(finds(engine, COMMON)) == 3


# -- (f) the index's size ----------------------------------------------------------------------


def test_index_bytes_is_the_current_generations_size_and_grows_with_content(
    tmp_path: Path,
) -> None:
    root = tmp_path / "index"
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = TantivyEngine(catalog, root)
        assert engine.index_bytes() == 0  # no generation yet
        indexed(catalog, engine, 0)
        small = engine.index_bytes()
        assert small == disk_bytes(root / current_generation(root)) > 0
        for number in range(1, 25):
            indexed(catalog, engine, number, passages=4)
        large = engine.index_bytes()
        assert large == disk_bytes(root / current_generation(root))
        assert large is not None and small is not None and large > small
        next_second()
        rebuild(catalog, engine)
        rebuilt = engine.index_bytes()
        assert rebuilt == disk_bytes(root / current_generation(root)) > 0
        assert disk_bytes(root) > rebuilt  # the forms table beside it is not counted
