"""Which German compound splitter should the search use? Measured, not guessed.

    python bench/compounds.py bench/compounds.tsv [--show NAME]

The search must find a compound by its parts ("Maske" finds "Maskenpflicht"), the head (last part)
counting most, without breaking words that are not compounds. This script runs every splitter from
PyPI that works offline on the gold set (its header states the splitting rule) and prints one row
per splitter and setting. Run it in a virtualenv with the candidates installed:

    pip install compound-split split-words german-nouns hanta numpy wordninja-pp \
        wordninja-enhanced snowballstemmer

A candidate that is not installed is reported as skipped. Columns:

- load s: import, set-up and first call (lazy loading); us/word: mean time of one call, best of
  --repeat passes over the gold words, nothing memoised (HanTa's table is its fixed lexicon);
- split P: share of the words it split that are gold compounds; split R: share of gold compounds
  it split at all; whole: share of gold non-compounds it left whole;
- head: on gold compounds, predicted last part == gold last part after `fold` (case folding,
  ß = ss, ä = a); head~: the same after the Snowball German stemmer, which forgives lemmas and
  inflection (Maske ~ Masken, Haus ~ Häusern);
- exact, exact~: on gold compounds, all parts equal in order (fold / stemmed).

"guarded" rejects a compound-split cut whose head is an ending (Bürger|innen) or whose modifier is
a preposition or particle (Mit|arbeiter), as the gold rule says. The gold set was written with the
candidates in view and the guards and thresholds were chosen on it: read small gaps as ties.
"""

from __future__ import annotations

import argparse
import importlib
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import snowballstemmer

Split = Callable[[str], list[str]]

# Found on PyPI, cannot run here; printed under the table so the reasons stay on record.
NOT_RUNNABLE = {
    "charsplit-fst": "requires Python >= 3.12 (no build for 3.11)",
    "compound-word-splitter": "needs the enchant C library and a hunspell dictionary (not on PyPI)",
    "dwdsmor": "downloads its automata from a model hub at run time",
    "wikdict-compound": "needs WikDict databases built from downloaded dumps",
}

_STEMMER = snowballstemmer.stemmer("german")
_LOAD_SECONDS: dict[str, float] = {}
_LOADED: dict[str, Any] = {}
_USED: set[str] = set()  # the loads the candidate being set up needed


@dataclass(frozen=True)
class Gold:
    word: str
    parts: tuple[str, ...]

    @property
    def compound(self) -> bool:
        return len(self.parts) > 1


@dataclass(frozen=True)
class Candidate:
    name: str
    make: Callable[[], Split]


@dataclass(frozen=True)
class Row:
    name: str
    load_s: float
    us_per_word: float
    precision: float
    recall: float
    whole: float
    head: float
    head_stem: float
    exact: float
    exact_stem: float


def fold(word: str) -> str:
    """Case- and diacritic-folded: 'Straße' -> 'strasse', 'Öffnung' -> 'offnung' (as the
    archive's own first analyser did; copied so that this bench does not follow its changes)."""
    text = unicodedata.normalize("NFKC", word).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem(part: str) -> str:
    return fold(_STEMMER.stemWord(part.casefold()))


def read_gold(path: Path) -> list[Gold]:
    gold: list[Gold] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#") or line.startswith("word\t"):
            continue
        word, parts_text = line.split("\t")
        parts = tuple(parts_text.split("+"))
        if "".join(parts).casefold() != word.casefold():
            raise ValueError(f"{path}:{number}: parts {parts_text!r} do not spell {word!r}")
        gold.append(Gold(word, parts))
    return gold


def _load(key: str, load: Callable[[], Any]) -> Any:
    """Run a one-off load (an import, a lazily read data file), remembering how long it took the
    first time; that time is charged to every candidate that needs it, so that all settings of
    one package show the same load time."""
    _USED.add(key)
    if key not in _LOAD_SECONDS:
        start = time.perf_counter()
        _LOADED[key] = load()
        _LOAD_SECONDS[key] = time.perf_counter() - start
    return _LOADED[key]


def _import(module: str) -> Any:
    return _load(module, lambda: importlib.import_module(module))


# --- the candidates -------------------------------------------------------------------------


# Guards for CharSplit's cut, from the gold rule: no derivational or inflectional ending as a head
# ("Bürger|innen"), no preposition or verb particle as a modifier ("Mit|arbeiter", "Aus|schuss").
NOT_HEADS = frozenset({"in", "innen", "nen", "en", "ern", "er", "ung", "ungen", "heit", "keit"})
_PARTICLE_WORDS = (
    "ab an auf aus bei durch ein gegen her hin hinter mit nach über um unter vor weg wieder zu "
    "zurück zusammen"
)
PARTICLES = frozenset(_PARTICLE_WORDS.split())


def charsplit(
    split_compound: Callable[[str], Sequence[Sequence[Any]]],
    threshold: float | None,
    recursive: bool,
    guarded: bool = False,
) -> Split:
    """compound-split / split-words: take the best-scored cut if its score > threshold (None:
    always) and, if guarded, it passes the guards; recursive: cut both parts again the same way."""

    def split(word: str) -> list[str]:
        candidates = split_compound(word)
        if not candidates:
            return [word]
        score, left, right = float(candidates[0][0]), str(candidates[0][1]), str(candidates[0][2])
        if word.casefold() in (left.casefold(), right.casefold()):
            return [word]
        if threshold is not None and score <= threshold:
            return [word]
        if guarded and (right.casefold() in NOT_HEADS or left.casefold() in PARTICLES):
            return [word]
        if not recursive:
            return [left, right]
        return split(left) + split(right)

    return split


def compound_split(
    threshold: float | None, recursive: bool = False, guarded: bool = False
) -> Candidate:
    label = "best" if threshold is None else f"score > {threshold:g}"
    name = (
        f"compound-split {label}"
        + (", recursive" if recursive else "")
        + (", guarded" if guarded else "")
    )

    def make() -> Split:
        module = _import("compound_split.char_split")
        return charsplit(module.split_compound, threshold, recursive, guarded)

    return Candidate(name, make)


def split_words(threshold: float | None) -> Candidate:
    label = "best" if threshold is None else f"score > {threshold:g}"

    def make() -> Split:
        module = _import("split_words")
        _load("split_words ngrams", lambda: module.splitter.get_ngram_probs())
        splitter = module.Splitter()
        return charsplit(splitter.split_compound, threshold, recursive=False)

    return Candidate(f"split-words {label}", make)


def german_nouns(retry_own_lemma: bool) -> Candidate:
    """parse_compound returns the parts' lemmas; a word found whole comes back as one lemma, which
    the retry excludes to force a split (Kindertagesstätten -> Kind, Tag, Stätte)."""

    def make() -> Split:
        nouns = _import("german_nouns.lookup").Nouns()

        def split(word: str) -> list[str]:
            parts = [str(p) for p in nouns.parse_compound(word)]
            if retry_own_lemma and len(parts) == 1:
                parts = [str(p) for p in nouns.parse_compound(word, parts)]
            return parts if len(parts) > 1 else [word]

        return split

    name = "german-nouns" + (", retry without own lemma" if retry_own_lemma else "")
    return Candidate(name, make)


# When to analyse a word as a noun (HanTa's own POS guess takes "Kindertagesstätten" for an
# adjective): "never"; "capitalised"; "candidate": capitalised and NN among HanTa's likely tags
# (so that a capitalised "Außerdem" at a sentence start stays an adverb).
NounRule = Literal["never", "capitalised", "candidate"]


def _hanta_split(noun: NounRule) -> Callable[[str], tuple[list[str], str]]:
    """HanTa's morpheme analysis, grouped into parts: a linking element (FUGE) or suffix (SUF_*)
    joins the part before, a prefix or verb particle the part after; other morphemes (NN, ADJ,
    VV, ...) start a part. Parts are the surface morphemes, lower case; also returns the POS."""
    tagger = _import("HanTa.HanoverTagger").HanoverTagger("morphmodel_ger.pgz")

    def guess_pos(word: str) -> str:
        """The POS to analyse the word as; "EMPTY" lets HanTa tag it."""
        if noun == "capitalised" and word[:1].isupper():
            return "NN"
        if noun == "candidate" and word[:1].isupper():
            tags = [str(tag) for tag, _ in tagger.tag_word(word)]  # best first
            return "NN" if "NN" in tags else tags[0] if tags else "EMPTY"
        return "EMPTY"

    def split(word: str) -> tuple[list[str], str]:
        _, morphemes, pos = tagger.analyze(word, pos=guess_pos(word), taglevel=3)
        parts: list[str] = []
        pending = ""  # a prefix waiting for its stem
        for morpheme, tag in morphemes:
            if parts and (tag in ("FUGE", "END", "HYPHEN") or tag.startswith("SUF_")):
                parts[-1] += morpheme
            elif tag.startswith(("PREF_", "PTKVZ")):
                pending += morpheme
            else:
                parts.append(pending + morpheme)
                pending = ""
        if pending and parts:
            parts[-1] += pending
        elif pending:
            parts.append(pending)
        return (parts if len(parts) > 1 else [word]), str(pos)

    return split


def hanta(noun: NounRule) -> Candidate:
    def make() -> Split:
        analyse = _hanta_split(noun)
        return lambda word: analyse(word)[0]

    return Candidate(f"hanta, NN: {noun}", make)


def hanta_then_compound_split(
    noun: NounRule, threshold: float, guarded: bool, nouns_only: bool = False
) -> Candidate:
    """HanTa first; a word it leaves whole (its lexicon holds many compounds as one lexeme:
    Inzidenzwert, Innenstadt, Neubau) goes to compound-split, recursive; nouns_only: only a word
    HanTa tags as a noun (NN, NE) goes there."""

    def make() -> Split:
        first = _hanta_split(noun)
        module = _import("compound_split.char_split")
        second = charsplit(module.split_compound, threshold, recursive=True, guarded=guarded)

        def split(word: str) -> list[str]:
            parts, pos = first(word)
            if len(parts) > 1 or (nouns_only and not pos.startswith(("NN", "NE"))):
                return parts
            return second(word)

        return split

    name = (
        f"hanta NN: {noun}, else compound-split > {threshold:g} rec."
        + (", guarded" if guarded else "")
        + (", nouns only" if nouns_only else "")
    )
    return Candidate(name, make)


def wordninja_pp() -> Candidate:
    def make() -> Split:
        module = _import("wordninja")
        return lambda word: [str(p) for p in module.split(word, lang="de")] or [word]

    return Candidate("wordninja-pp de", make)


def wordninja_enhanced() -> Candidate:
    def make() -> Split:
        model = _import("wordninja_enhanced").LanguageModel("de")
        return lambda word: [str(p) for p in model.split(word)] or [word]

    return Candidate("wordninja-enhanced de", make)


CANDIDATES: list[Candidate] = [
    compound_split(None),
    compound_split(0.0),
    compound_split(0.3),
    compound_split(0.5),
    compound_split(0.0, recursive=True),
    compound_split(0.3, recursive=True),
    compound_split(0.5, recursive=True),
    compound_split(0.5, recursive=True, guarded=True),
    split_words(None),
    split_words(0.0),
    german_nouns(retry_own_lemma=False),
    german_nouns(retry_own_lemma=True),
    hanta("never"),
    hanta("capitalised"),
    hanta("candidate"),
    hanta_then_compound_split("capitalised", 0.5, guarded=False),
    hanta_then_compound_split("capitalised", 0.5, guarded=True),
    hanta_then_compound_split("candidate", 0.3, guarded=True),
    hanta_then_compound_split("candidate", 0.5, guarded=True),
    hanta_then_compound_split("candidate", 0.5, guarded=True, nouns_only=True),
    hanta_then_compound_split("never", 0.5, guarded=True, nouns_only=True),
    wordninja_pp(),
    wordninja_enhanced(),
]


# --- measuring ------------------------------------------------------------------------------


def _share(hits: int, total: int) -> float:
    return hits / total if total else 0.0


def measure(candidate: Candidate, gold: list[Gold], repeat: int) -> tuple[Row, list[list[str]]]:
    loaded_before = set(_LOAD_SECONDS)
    _USED.clear()
    start = time.perf_counter()
    split = candidate.make()
    split("Probelauf")  # lazy loading on first use counts as loading, not as splitting
    set_up = time.perf_counter() - start
    set_up -= sum(s for key, s in _LOAD_SECONDS.items() if key not in loaded_before)
    load_s = set_up + sum(_LOAD_SECONDS[key] for key in _USED)
    predictions: list[list[str]] = []
    best_ns = float("inf")
    for _ in range(repeat):
        outputs: list[list[str]] = []
        begin = time.perf_counter_ns()
        for item in gold:
            outputs.append(split(item.word))
        best_ns = min(best_ns, time.perf_counter_ns() - begin)
        predictions = predictions or outputs

    compounds = [(g, p) for g, p in zip(gold, predictions, strict=True) if g.compound]
    simple = [(g, p) for g, p in zip(gold, predictions, strict=True) if not g.compound]
    split_any = [(g, p) for g, p in zip(gold, predictions, strict=True) if len(p) > 1]
    row = Row(
        name=candidate.name,
        load_s=load_s,
        us_per_word=best_ns / len(gold) / 1000,
        precision=_share(sum(g.compound for g, _ in split_any), len(split_any)),
        recall=_share(sum(len(p) > 1 for _, p in compounds), len(compounds)),
        whole=_share(sum(len(p) == 1 for _, p in simple), len(simple)),
        head=_share(sum(fold(p[-1]) == fold(g.parts[-1]) for g, p in compounds), len(compounds)),
        head_stem=_share(
            sum(stem(p[-1]) == stem(g.parts[-1]) for g, p in compounds), len(compounds)
        ),
        exact=_share(
            sum([fold(x) for x in p] == [fold(x) for x in g.parts] for g, p in compounds),
            len(compounds),
        ),
        exact_stem=_share(
            sum([stem(x) for x in p] == [stem(x) for x in g.parts] for g, p in compounds),
            len(compounds),
        ),
    )
    return row, predictions


def format_table(rows: list[Row]) -> str:
    header = (
        "splitter",
        "load s",
        "us/word",
        "split P",
        "split R",
        "whole",
        "head",
        "head~",
        "exact",
        "exact~",
    )
    lines = [
        [
            r.name,
            f"{r.load_s:.2f}",
            f"{r.us_per_word:.0f}",
            f"{r.precision:.3f}",
            f"{r.recall:.3f}",
            f"{r.whole:.3f}",
            f"{r.head:.3f}",
            f"{r.head_stem:.3f}",
            f"{r.exact:.3f}",
            f"{r.exact_stem:.3f}",
        ]
        for r in rows
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=True)]
    out = []
    for cells in [list(header), *lines]:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
        )
    out.insert(1, "-" * len(out[0]))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes, best one counts")
    parser.add_argument(
        "--show",
        metavar="NAME",
        default=None,
        help="also print every word the splitters whose name contains NAME get wrong (exact~)",
    )
    args = parser.parse_args()
    gold = read_gold(args.gold)
    print(
        f"{args.gold}: {len(gold)} words, {sum(g.compound for g in gold)} compounds, "
        f"{sum(not g.compound for g in gold)} non-compounds, "
        f"{sum(len(g.parts) > 2 for g in gold)} with three or more parts\n"
    )
    rows: list[Row] = []
    skipped: dict[str, str] = dict(NOT_RUNNABLE)
    for candidate in CANDIDATES:
        try:
            row, predictions = measure(candidate, gold, args.repeat)
        except ImportError as error:
            skipped[candidate.name] = f"not installed ({error.name})"
            continue
        rows.append(row)
        if args.show and args.show in candidate.name:
            print(f"[{candidate.name}] wrong:")
            for item, parts in zip(gold, predictions, strict=True):
                if [stem(x) for x in parts] != [stem(x) for x in item.parts]:
                    print(f"  {item.word:28} gold {'+'.join(item.parts):30} got {'+'.join(parts)}")
            print()
    print(format_table(rows))
    print("\nskipped:")
    for name, reason in skipped.items():
        print(f"  {name}: {reason}")


if __name__ == "__main__":
    main()
