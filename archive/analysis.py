"""Text analysis shared by indexing, querying and highlighting, so that all three agree.

A word becomes one or more *terms*. Today: Unicode normalisation, case folding and folding of
diacritics (ß = ss, ä = a). German stemming and compound parts come with the search issue; they
belong here and nowhere else.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Letters and digits; everything else separates words, as in FTS5's unicode61 tokenizer.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_CLAUSES = 32
_QUERY_TOKEN = re.compile(r'(-?)"([^"]*)"|(-?)([^\s"]+)')
# FTS5 / boolean keywords a user may type out of habit; AND is what we do anyway.
_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Case- and diacritic-folded form of a word: 'Straße' -> 'strasse', 'Öffnung' -> 'offnung'."""
    text = unicodedata.normalize("NFKC", word).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The words of a text, as written, without punctuation."""
    return _WORD.findall(unicodedata.normalize("NFKC", text))


def terms(text: str) -> list[str]:
    """The index terms of a text, in order; one or more per word."""
    return [fold(word) for word in words(text)]


@dataclass(frozen=True)
class Clause:
    """One part of a query: a word, a prefix or a phrase, possibly excluded."""

    terms: tuple[str, ...]
    prefix: bool = False
    excluded: bool = False

    @property
    def phrase(self) -> bool:
        return len(self.terms) > 1


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[Clause, ...]

    @property
    def positive(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if not c.excluded)

    @property
    def excluded(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.excluded)

    @property
    def empty(self) -> bool:
        return not self.positive

    def matches_word(self, word: str) -> bool:
        """Whether a spoken word is one the query asked for (for highlights and deep links)."""
        for term in terms(word):
            for clause in self.positive:
                if clause.prefix and term.startswith(clause.terms[-1]):
                    return True
                if term in clause.terms:
                    return True
        return False


def parse_query(text: str) -> ParsedQuery:
    """Parse what a person typed. Never fails: anything that is not syntax is a word.

    Syntax: words are AND-ed; "an exact phrase"; -excluded; prefix*. Unbalanced quotes, the
    operators AND, OR, NOT and NEAR written in capitals, punctuation and symbols are dropped;
    past MAX_CLAUSES clauses the rest is ignored.
    """
    clauses: list[Clause] = []
    for quoted_minus, quoted, minus, bare in _QUERY_TOKEN.findall(text):
        if quoted or quoted_minus:
            found = tuple(terms(quoted))
            if found:
                clauses.append(Clause(found, excluded=bool(quoted_minus)))
            continue
        prefix = bare.endswith("*")
        found = tuple(fold(word) for word in words(bare) if word not in _OPERATORS)
        if not found:
            continue
        if len(found) == 1:
            clauses.append(Clause(found, prefix=prefix, excluded=bool(minus)))
        elif minus:
            clauses.append(Clause(found, excluded=True))
        else:
            # "NEAR(Maske" or "Kita-Öffnung": every word of it must be there.
            clauses.extend(Clause((term,)) for term in found[:-1])
            clauses.append(Clause((found[-1],), prefix=prefix))
    return ParsedQuery(tuple(clauses[:MAX_CLAUSES]))
