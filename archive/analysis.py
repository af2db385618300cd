"""German text analysis shared by indexing, querying and highlighting, so that all three agree.

A spoken word becomes one *term* (Unicode-normalised, case- and diacritic-folded, Snowball-stemmed:
"Krankenhäusern", "Krankenhaeuser" -> "krankenhaus"; "Bürgermeister", "Buergermeister",
"Burgermeister" -> "burgermeist"), and a compound also gives the terms of its *parts*: its head
("Karte" in "Schatzkarte") and its modifiers ("Schatz"), so that the parts find the compound.
Splitting is HanTa's morphological analysis, then compound-split's (CharSplit) best cut for nouns
HanTa keeps whole (bench/compounds.py compares them). Results are cached per word form: German
vocabulary is Zipfian.

Whisper often writes a compound apart or hyphenated ("der Umbau arbeiten zu", "Weide-Zone",
"über Flutungen": the base model on real clips, see MEASUREMENTS.md). Two ways to find those:
- *joined* terms (`analyse_text(...).joined`, used by the Meilisearch engine, which has no OR at
  query time): for each two adjacent words separated by nothing but spaces or one hyphen, the
  term of the two written as one word ("Umbau arbeiten" -> term("Umbauarbeiten") =
  "umbauarbeit"), so that a query word finds its compound said apart by an exact term lookup;
- *said apart* (`said_apart`, used by the embedded engine): the query word's cuts into two
  terms, looked for as adjacent words (a phrase). Indexing joined terms doubled the tantivy
  index (164 -> 342 MiB at 1M passages of bench/search.py, against a goal of 250) and cost
  90 us a passage on reindex; the phrases cost a few term lookups per long query word.
Both use the splitter's own bounds: parts of at least MIN_PART letters, MIN_COMPOUND letters
together (so that "vor Ort" never answers "Vorort"), and neither a function word
(_FUNCTION_WORDS: articles, pronouns, conjunctions, auxiliaries, which stand beside most nouns).
No splitter is asked: they take seconds to load and miss words ("Überflutung" is kept whole, yet
"über Flutungen" is what Whisper wrote). Only pairs: three-part splits were not seen in the
clips. The reverse (words asked for apart, said as one compound) needs nothing new: a
compound's parts are its heads and modifiers, which the words AND-ed find. A phrase in quotes is
matched as written, neither joined nor split.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from typing import Any, NamedTuple, TypeVar

import Stemmer

# Letters and digits; everything else separates words, as in FTS5's unicode61 tokenizer.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Two adjacent words separated by spaces or one hyphen (overlapping: the second is looked ahead).
_HYPHENS = "-\u2010\u2011"
# A token of letters, or of words of letters joined by hyphens, with what may stand around it.
_CHAIN = re.compile(rf"(\W*)([^\W\d_]+(?:[{_HYPHENS}][^\W\d_]+)*)[{_HYPHENS}]?(\W*)", re.UNICODE)
_HYPHEN = re.compile(rf"[{_HYPHENS}]")
MAX_CLAUSES = 32
MIN_PREFIX = 3
_QUERY_TOKEN = re.compile(r'(-?)"([^"]*)"|(-?)([^\s"]+)')
# FTS5 / boolean keywords a user may type out of habit; AND is what we do anyway.
_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})
# Compound splitting: shortest word tried, least score taken, shortest part kept.
MIN_COMPOUND = 8
MIN_SPLIT_SCORE = 0.5
MIN_PART = 3
# Cuts CharSplit makes that are no compounds: an ending taken for a head ("Bürger|innen"),
# a particle taken for a modifier ("Mit|arbeiter").
_NOT_HEADS = frozenset({"in", "innen", "nen", "en", "ern", "er", "ung", "ungen", "heit", "keit"})
_PARTICLES = frozenset(
    [
        "ab",
        "an",
        "auf",
        "aus",
        "bei",
        "durch",
        "ein",
        "gegen",
        "her",
        "hin",
        "hinter",
        "mit",
        "nach",
        "über",
        "um",
        "unter",
        "vor",
        "weg",
        "wieder",
        "zu",
        "zurück",
        "zusammen",
    ]
)
_PLURAL_S_AFTER = frozenset("aioy")
# Folded words that begin or end no compound: a pair holding one is never joined.
_FUNCTION_WORDS = frozenset(
    [
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "ein",
        "eine",
        "einen",
        "einem",
        "einer",
        "eines",
        "und",
        "oder",
        "aber",
        "denn",
        "doch",
        "sondern",
        "ich",
        "sie",
        "wir",
        "ihr",
        "ihn",
        "ihm",
        "uns",
        "euch",
        "ihre",
        "ihren",
        "ihrem",
        "ihrer",
        "ihres",
        "sein",
        "seine",
        "seinen",
        "seinem",
        "seiner",
        "unser",
        "unsere",
        "unseren",
        "unserem",
        "unserer",
        "dies",
        "diese",
        "diesen",
        "diesem",
        "dieser",
        "dieses",
        "jede",
        "jeden",
        "jedem",
        "jeder",
        "alle",
        "allen",
        "aller",
        "ist",
        "sind",
        "war",
        "waren",
        "hat",
        "haben",
        "hatte",
        "wird",
        "werden",
        "wurde",
        "wurden",
        "kann",
        "konnen",
        "muss",
        "mussen",
        "soll",
        "sollen",
        "will",
        "wollen",
        "nicht",
        "auch",
        "noch",
        "schon",
        "sehr",
        "wie",
        "als",
        "dass",
        "wenn",
        "weil",
        "zum",
        "zur",
        "vom",
        "beim",
        "man",
        "mir",
        "dir",
        "sich",
        "was",
        "wer",
    ]
)
# Bump whenever the analysis of any word may change (folding, stemming, splitting, the constants
# above, the libraries' behaviour we rely on): tables of analysed word forms written by another
# version (archive.forms) are then emptied, not trusted.
ANALYSER_VERSION = 1
CACHE_SIZE = 500_000
# Forms remembered from a table fill at most this many places of the memo, so that the forms
# analysed next do not find it full and empty it at once.
REMEMBERED_SIZE = CACHE_SIZE * 3 // 4
T = TypeVar("T")
_stemmer = Stemmer.Stemmer("german")  # about 1 ms: loaded with the module
# Joined words are mostly seen once: PyStemmer's cache (10,000 words) cost 3.5 us a word on
# them, against 1.2 us without it.
_pair_stemmer = Stemmer.Stemmer("german", 0)


class _Splitters:
    """HanTa's tagger and compound-split's CharSplit, loaded on the first compound to split:
    importing them takes seconds (compound-split reads its n-gram tables at import), and most
    commands never split a word. Called only when an analysis is not cached; after the first
    load a call costs one attribute check, and no lock."""

    def __init__(self) -> None:
        self.tagger: Any = None
        self.char_split: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self.tagger is not None:
                return
            from compound_split import char_split
            from HanTa import HanoverTagger

            self.char_split = char_split
            self.tagger = HanoverTagger.HanoverTagger("morphmodel_ger.pgz")

    def hanta(self) -> Any:
        if self.tagger is None:
            self.load()
        return self.tagger

    def charsplit(self) -> Any:
        if self.tagger is None:
            self.load()
        return self.char_split


_splitters = _Splitters()


def load_models() -> None:
    """Load the compound splitters now (a server does it in the background at start, so that
    its first query with a compound does not wait seconds for them)."""
    _splitters.load()


_CACHES: dict[str, dict[str, Any]] = {}

Form = tuple[str, tuple[str, ...], tuple[str, ...]]
"""A word form's analysis: its term, the terms of its heads and those of its modifiers."""

# Forms analysed anew since new_forms() last took them. Bounded like the memo, for a process
# that never takes them (a server); a lock, since threads analyse concurrently.
_new: dict[str, Form] = {}
_new_lock = threading.Lock()


def clear_caches() -> None:
    """Forget every analysed word form (for benchmarks that start cold)."""
    for cache in _CACHES.values():
        cache.clear()


def analysed_forms() -> int:
    """How many distinct word forms the analyser holds."""
    return len(_CACHES["_analysed"])


def analysed_forms_snapshot() -> dict[str, Form]:
    """Every word form the analyser holds, with its analysis (a copy)."""
    return dict(_CACHES["_analysed"])


def new_forms() -> dict[str, Form]:
    """The word forms analysed anew (not remembered) since the last call, in the order they were
    analysed, and forget them: what a table of analysed forms does not hold yet."""
    with _new_lock:
        taken = dict(_new)
        _new.clear()
    return taken


def analysed_form(word: str) -> Form:
    """A word's form (term, heads, modifiers), from the memo or analysed now."""
    return _analysed(word)


def remember_forms(forms: Iterable[tuple[str, Form]]) -> int:
    """Put forms analysed earlier (by this ANALYSER_VERSION: the caller vouches for it) into the
    memo, without analysing them; returns how many it took.

    Takes them in the order given until the memo holds REMEMBERED_SIZE forms, and consumes no
    more of `forms`: a table larger than the memo must not fill it to the brim, or the next
    word analysed would empty it."""
    cache = _CACHES["_analysed"]
    taken = 0
    for word, form in islice(forms, max(REMEMBERED_SIZE - len(cache), 0)):
        cache[word] = form
        taken += 1
    return taken


def _memo(function: Callable[[str], T]) -> Callable[[str], T]:
    """Cache a function of one word in a plain dict, emptied when it holds CACHE_SIZE words.

    Not functools.lru_cache: its bookkeeping is one list per entry, which the garbage
    collector walks at every full collection; a dict of strings and plain tuples it skips."""
    cache: dict[str, T] = {}
    _CACHES[function.__name__] = cache

    def cached(word: str) -> T:
        try:
            return cache[word]
        except KeyError:
            if len(cache) >= CACHE_SIZE:
                cache.clear()
            value = cache[word] = function(word)
            return value

    cached.__doc__ = function.__doc__
    cached.__wrapped__ = function  # type: ignore[attr-defined]
    return cached


@_memo
def fold(word: str) -> str:
    """Case- and diacritic-folded form of a word: 'Straße' -> 'strasse', 'Öffnung' -> 'offnung'."""
    text = unicodedata.normalize("NFKC", word).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The words of a text, as written, without punctuation."""
    return _WORD.findall(unicodedata.normalize("NFKC", text))


@_memo
def _spelled(word: str) -> str:
    """The folded word with ae, oe, ue read as umlauts, as the stemmer reads them: every term
    of the word's parts occurs in it."""
    return fold(word).replace("ae", "a").replace("oe", "o").replace("ue", "u")


def _stem(folded: str, stemmer: Stemmer.Stemmer = _stemmer) -> str:
    stem: str = stemmer.stemWord(folded)
    # Snowball keeps the plural -s of loanwords ("Kitas", "Büros", "Handys"): drop it.
    if len(stem) >= 4 and stem[-1] == "s" and stem[-2] in _PLURAL_S_AFTER:
        stem = stem[:-1]
    return stem


@_memo
def term(word: str) -> str:
    """The index term of one word."""
    return _stem(fold(word))


def _charsplit(word: str) -> list[str]:
    """compound-split's best cut, if convincing and not a known false cut; both halves again."""
    if len(word) < MIN_COMPOUND or not word.isalpha():
        return [word]
    candidates = _splitters.charsplit().split_compound(word.capitalize())
    if not candidates:
        return [word]
    score, modifier, head = candidates[0]
    modifier, head = str(modifier).casefold(), str(head).casefold()
    if score <= MIN_SPLIT_SCORE or min(len(modifier), len(head)) < MIN_PART:
        return [word]
    if head in _NOT_HEADS or modifier in _PARTICLES:
        return [word]
    return _charsplit(modifier) + _charsplit(head)


def _hanta_parts(word: str) -> tuple[list[str], str]:
    """HanTa's morphemes grouped into parts (a linking element or suffix joins the part before,
    a prefix the part after), and the part of speech it analysed the word as."""
    tagger = _splitters.hanta()
    tags = [str(tag) for tag, _ in tagger.tag_word(word)]
    pos = "NN" if "NN" in tags else tags[0] if tags else "EMPTY"
    _, morphemes, analysed = tagger.analyze(word, pos=pos, taglevel=3)
    parts: list[str] = []
    pending = ""
    for morpheme, tag in morphemes:
        if parts and (tag in ("FUGE", "END", "HYPHEN") or tag.startswith("SUF_")):
            parts[-1] += morpheme
        elif tag.startswith(("PREF_", "PTKVZ")):
            pending += morpheme
        else:
            parts.append(pending + morpheme)
            pending = ""
    if pending:
        if parts:
            parts[-1] += pending
        else:
            parts.append(pending)
    return [p.casefold() for p in parts], str(analysed)


def _split(word: str) -> list[str]:
    """A noun's parts, head last; [word] for anything else.

    HanTa (a morphological analyser with a lexicon) first: it never split a non-compound in our
    measurements but keeps many compounds whole (Innenstadt, Oberbürgermeister); a noun it keeps
    whole goes to compound-split (CharSplit statistics). Measured on bench/compounds.tsv (254
    words): head right 0.957, non-compounds left whole 0.985 (compound-split alone: 0.861).
    """
    if len(word) < MIN_COMPOUND or not word[:1].isupper() or not word.isalpha():
        return [word.casefold()]
    parts, pos = _hanta_parts(word)
    if len(parts) > 1:
        return parts
    if not pos.startswith(("NN", "NE")):
        return [word.casefold()]
    return _charsplit(word.casefold())


class WordTerms(NamedTuple):
    """What one spoken word contributes to the index."""

    term: str
    heads: tuple[str, ...] = ()
    modifiers: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return (self.term, *self.heads, *self.modifiers)


def analyse(word: str) -> WordTerms:
    """The term of a word and, for a compound, the terms of its heads and modifiers."""
    return WordTerms._make(_analysed(word))


@_memo
def _analysed(word: str) -> Form:
    """The term of a word and, for a compound, the terms of its heads and modifiers (recorded
    for new_forms())."""
    form = _analysis(word)
    with _new_lock:
        if len(_new) >= CACHE_SIZE:
            _new.clear()
        _new[word] = form
    return form


def _analysis(word: str) -> Form:
    """The term of a word and, for a compound, the terms of its heads and modifiers.

    Heads are the constituents that end the word (Oberbürgermeister: Bürgermeister, Meister);
    modifiers the others (Ober, Bürger). Parts are split on the word as written, umlauts and
    all, since the splitters know "Bürger", not "Burger".
    """
    whole = _stem(fold(word))
    parts = _split(unicodedata.normalize("NFKC", word))
    if len(parts) < 2:
        return (whole, (), ())
    heads = ["".join(parts[k:]) for k in range(1, len(parts))]
    modifiers = parts[:-1]

    def stems(parts: list[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for p in parts if (t := _stem(fold(p))) != whole))

    return (whole, stems(heads), stems(modifiers))  # a plain tuple: the GC stops tracking it


def terms(text: str) -> list[str]:
    """The terms of a text, one per word, in order (what phrases are matched against)."""
    return [term(word) for word in words(text)]


@dataclass(frozen=True)
class Analysed:
    """A text as the engines index it: the word terms in order, and the compound parts."""

    terms: list[str]
    heads: list[str]
    modifiers: list[str]
    joined: list[str]


def analyse_text(text: str) -> Analysed:
    normalized = unicodedata.normalize("NFKC", text)
    analysed = [_analysed(word) for word in _WORD.findall(normalized)]
    return Analysed(
        terms=[whole for whole, _, _ in analysed],
        heads=[h for _, heads, _ in analysed for h in heads],
        modifiers=[m for _, _, modifiers in analysed for m in modifiers],
        joined=_joined(normalized),
    )


def joined_term(first: str, second: str) -> str | None:
    """The term of two adjacent words written as one, if they could be a compound said apart
    ("Umbau", "arbeiten" -> "umbauarbeit"); None for a pair that could not."""
    if len(first) < MIN_PART or len(second) < MIN_PART or len(first) + len(second) < MIN_COMPOUND:
        return None
    if not (first[:1].isupper() or second[:1].isupper()):
        return None  # a compound is a noun: written apart, one half at least keeps its capital
    if not (first.isalpha() and second.isalpha()):
        return None
    modifier, head = fold(first), fold(second)
    if modifier in _FUNCTION_WORDS or head in _FUNCTION_WORDS:
        return None
    return _stem(modifier + head, _pair_stemmer)


class _Token(NamedTuple):
    """A whitespace-separated token's words, and whether its first and last word may join
    the tokens around it (no punctuation between)."""

    words: list[str]
    open_before: bool
    open_after: bool


def _token(token: str) -> _Token:
    if token.isalpha():  # most tokens: quickly
        return _Token([token], True, True)
    found = _CHAIN.fullmatch(token)
    if found is None:  # digits, inner punctuation ("z.B.", "3,5"): joins nothing
        return _Token([], False, False)
    before, chain, after = found.groups()
    return _Token(_HYPHEN.split(chain), not before, not after)


def _pairs(text: str) -> list[tuple[str, str]]:
    """The adjacent words of a text separated by spaces or one hyphen, in order."""
    pairs: list[tuple[str, str]] = []
    previous: str | None = None
    for written in text.split():
        if written.isalpha():  # most tokens: no _Token made
            if previous is not None:
                pairs.append((previous, written))
            previous = written
            continue
        token = _token(written)
        if not token.words:
            previous = None
            continue
        if previous is not None and token.open_before:
            pairs.append((previous, token.words[0]))
        pairs.extend(zip(token.words, token.words[1:], strict=False))
        previous = token.words[-1] if token.open_after else None
    return pairs


def _joined(normalized: str) -> list[str]:
    """The joined terms of an NFKC-normalised text, each once, in order of first occurrence."""
    found = [joined_term(first, second) for first, second in _pairs(normalized)]
    return list(dict.fromkeys(t for t in found if t is not None))


class IndexFields(NamedTuple):
    """What a passage's text gives the embedded index, each field as whitespace-separated
    terms: the word terms in order, the compound heads, the compound modifiers. (No joined
    terms: the embedded engine finds a compound said apart at query time, see `said_apart`.)"""

    terms: str
    heads: str
    modifiers: str


def index_fields(text: str) -> IndexFields:
    """Written for speed (a reindex runs it on every passage): the memo is read directly (a
    call through it cost a sixth of the time), lists are joined rather than generators, and
    most words, which have no parts, are skipped."""
    normalized = unicodedata.normalize("NFKC", text)
    written = _WORD.findall(normalized)
    known = _CACHES["_analysed"]
    analysed = [known.get(word) or _analysed(word) for word in written]
    return IndexFields(
        terms=" ".join([form[0] for form in analysed]),
        heads=" ".join([h for form in analysed if form[1] for h in form[1]]),
        modifiers=" ".join([m for form in analysed if form[2] for m in form[2]]),
    )


def said_apart(written: str) -> tuple[tuple[str, str], ...]:
    """The pairs of terms that a word asked for gives when said apart as two adjacent words
    ("Umbauarbeiten": ("umbau", "arbeit") among others), for an engine that looks for them as
    phrases at query time instead of indexing joined terms: every cut of the folded word into
    two parts of at least MIN_PART letters, MIN_COMPOUND letters together, neither a function
    word (the bounds `joined_term` uses). Each part's term is what the analyser gives that part
    said alone, so inflected second halves meet ("Umbau Arbeit" for Umbauarbeiten). Cuts that
    are no words at all ("umb" + "auarbeiten") cost one term lookup each and match nothing."""
    folded = fold(written)
    if len(folded) < MIN_COMPOUND or not folded.isalpha():
        return ()
    pairs: dict[tuple[str, str], None] = {}
    for cut in range(MIN_PART, len(folded) - MIN_PART + 1):
        first, second = folded[:cut], folded[cut:]
        if first in _FUNCTION_WORDS or second in _FUNCTION_WORDS:
            continue
        pairs[(term(first), term(second))] = None
    return tuple(pairs)


@dataclass(frozen=True)
class Clause:
    """One part of a query: a word, a prefix or a phrase, possibly excluded."""

    terms: tuple[str, ...]
    written: tuple[str, ...]
    prefix: bool = False
    excluded: bool = False

    @property
    def phrase(self) -> bool:
        return len(self.terms) > 1

    def matches(self, word: WordTerms) -> bool:
        if self.prefix:
            return any(t.startswith(self.terms[-1]) for t in word.all)
        return any(t in self.terms for t in word.all)


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[Clause, ...]
    # matches_word's answers: a snippet page asks about the same few hundred words many times
    _matched: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def positive(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if not c.excluded)

    @cached_property
    def excluded(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.excluded)

    @property
    def empty(self) -> bool:
        return not self.positive

    def matches_word(self, word: str) -> bool:
        """Whether a spoken word is one the query asked for (for highlights and deep links)."""
        found = self._matched.get(word)
        if found is None:
            found = self._matched[word] = self._matches_word(word)
        return found

    def matched(self, spoken: Sequence[str]) -> list[bool]:
        """Which of a passage's spoken words the query asked for (for highlights and deep
        links): each by itself, or a word asked for said apart, as two spoken words or one
        hyphenated ("Umbau" "arbeiten", "Weide-Zone" for Umbauarbeiten, Weidezone); both
        halves are then marked. Phrases are matched as written (see the module docstring)."""
        found = [self.matches_word(word) for word in spoken]
        if not self._apart:  # no word asked for is long enough to be said apart
            return found
        tokens = [_token(unicodedata.normalize("NFKC", word.strip())) for word in spoken]
        for n, token in enumerate(tokens):
            inside = zip(token.words, token.words[1:], strict=False)
            if not found[n] and any(self._matches_pair(a, b) for a, b in inside):
                found[n] = True
            after = tokens[n + 1] if n + 1 < len(tokens) else None
            if not (after and after.words and token.open_after and after.open_before):
                continue
            if self._matches_pair(token.words[-1], after.words[0]):
                found[n] = found[n + 1] = True
        return found

    @cached_property
    def _apart(self) -> tuple[str, ...]:
        """The terms of single words asked for that are long enough to have been said apart."""
        return tuple(
            clause.terms[0]
            for clause in self.positive
            if not (clause.phrase or clause.prefix)
            and len(fold(clause.written[0])) >= MIN_COMPOUND - 1
        )

    def _matches_pair(self, first: str, second: str) -> bool:
        key = f"{first}\0{second}"
        found = self._matched.get(key)
        if found is None and not any(t.startswith(fold(first)) for t in self._apart):
            found = self._matched[key] = False  # stemming changes a term's end, not its start
        if found is None:
            joined = joined_term(first, second)
            found = joined is not None and any(
                joined in clause.terms
                for clause in self.positive
                if not (clause.phrase or clause.prefix)
            )
            self._matched[key] = found
        return found

    def _matches_word(self, word: str) -> bool:
        """A compound is analysed only when a term asked for occurs in it: splitting words is
        the costly part, and most words of a passage are not what was asked for."""
        for written in words(word):
            whole = WordTerms(term(written))
            if any(clause.matches(whole) for clause in self.positive):
                return True
            spelled = _spelled(written)
            if any(t in spelled for c in self.positive for t in c.terms) and any(
                clause.matches(analyse(written)) for clause in self.positive
            ):
                return True
        return False


def _clause(written: list[str], prefix: bool, excluded: bool) -> Clause:
    found = tuple(term(w) for w in written)
    if prefix and len(fold(written[-1])) < MIN_PREFIX:
        prefix = False  # "Ma*": too short to expand; taken as the word itself
    return Clause(found, tuple(written), prefix=prefix, excluded=excluded)


def parse_query(text: str) -> ParsedQuery:
    """Parse what a person typed. Never fails: anything that is not syntax is a word.

    Syntax: words are AND-ed; "an exact phrase"; -excluded; prefix* (three letters at least).
    Unbalanced quotes, the operators AND, OR, NOT and NEAR written in capitals, punctuation and
    symbols are dropped; past MAX_CLAUSES clauses the rest is ignored.
    """
    clauses: list[Clause] = []
    for quoted_minus, quoted, minus, bare in _QUERY_TOKEN.findall(text):
        if quoted or quoted_minus:
            written = words(quoted)
            if written:
                clauses.append(_clause(written, prefix=False, excluded=bool(quoted_minus)))
            continue
        prefix = bare.endswith("*")
        written = [w for w in words(bare) if w not in _OPERATORS]
        if not written:
            continue
        if len(written) == 1 or minus:
            clauses.append(_clause(written, prefix=prefix, excluded=bool(minus)))
        else:
            # "NEAR(Maske" or "Kita-Öffnung": every word of it must be there.
            clauses.extend(_clause([w], False, False) for w in written[:-1])
            clauses.append(_clause(written[-1:], prefix=prefix, excluded=False))
    return ParsedQuery(tuple(clauses[:MAX_CLAUSES]))
