"""Text analysis shared by indexing, querying and highlighting."""

from __future__ import annotations

import pytest

from archive.analysis import Clause, fold, parse_query, terms, words


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("Straße", "strasse"),
        ("ÖFFNUNG", "offnung"),
        ("Öffnung", "offnung"),
        ("Münster", "munster"),
        ("café", "cafe"),
        ("Cafe\u0301", "cafe"),  # decomposed accent
        ("ﬁnanzen", "finanzen"),  # ligature, NFKC
        ("Kita", "kita"),
    ],
)
def test_fold(word: str, folded: str) -> None:
    assert fold(word) == folded


def test_terms_drop_punctuation_and_emoji() -> None:
    text = "Liebe Bürger, die Straße (B 51) wird — ab Montag! — gesperrt… 🎉🚧 «Danke»."
    assert terms(text) == [
        "liebe",
        "burger",
        "die",
        "strasse",
        "b",
        "51",
        "wird",
        "ab",
        "montag",
        "gesperrt",
        "danke",
    ]


def test_words_split_where_the_fts5_tokenizer_splits() -> None:
    """Apostrophes, hyphens and underscores separate words, as in FTS5's unicode61 tokenizer,
    so that what the index finds and what highlighting marks agree."""
    assert words("Geht's gut? Kita-Öffnung snake_case 'zitiert'") == [
        "Geht",
        "s",
        "gut",
        "Kita",
        "Öffnung",
        "snake",
        "case",
        "zitiert",
    ]
    assert terms("Geht\u2019s") == ["geht", "s"]


def test_terms_of_nothing_are_empty() -> None:
    for text in ["", "   ", "🎉", "—…!?", "\x00\x1b\x07\t", "___"]:
        assert terms(text) == [], repr(text)


def test_plain_words_are_anded_clauses() -> None:
    parsed = parse_query("Maskenpflicht  Bus")
    assert parsed.clauses == (Clause(("maskenpflicht",)), Clause(("bus",)))
    assert parsed.positive == parsed.clauses
    assert not parsed.empty


def test_quoted_phrase_is_one_clause() -> None:
    parsed = parse_query('"Der Wochenmarkt bleibt" offen')
    assert parsed.clauses == (Clause(("der", "wochenmarkt", "bleibt")), Clause(("offen",)))
    assert parsed.clauses[0].phrase
    assert not parsed.clauses[1].phrase


def test_minus_excludes_a_word_or_a_phrase() -> None:
    parsed = parse_query('Markt -Winter -"im Sommer"')
    assert parsed.positive == (Clause(("markt",)),)
    assert parsed.excluded == (
        Clause(("winter",), excluded=True),
        Clause(("im", "sommer"), excluded=True),
    )


def test_only_excluded_clauses_make_an_empty_query() -> None:
    parsed = parse_query("-Winter")
    assert parsed.excluded and parsed.empty


def test_star_makes_a_prefix() -> None:
    assert parse_query("Masken*").clauses == (Clause(("masken",), prefix=True),)
    assert parse_query("-Masken*").clauses == (Clause(("masken",), prefix=True, excluded=True),)
    # inside a word a star is just a separator
    assert parse_query("Mas*ken").clauses == (Clause(("mas",)), Clause(("ken",)))


def test_hyphenated_word_needs_every_part_and_keeps_the_prefix_on_the_last() -> None:
    assert parse_query("Kita-Öffn*").clauses == (
        Clause(("kita",)),
        Clause(("offn",), prefix=True),
    )


@pytest.mark.parametrize(
    "text", ['"Maske', 'Maske"', 'Ma"ske', '"Maske" "', '""Maske', 'Maske """']
)
def test_unbalanced_quotes_are_ignored(text: str) -> None:
    parsed = parse_query(text)
    assert [c.terms for c in parsed.clauses] in ([("maske",)], [("ma",), ("ske",)])
    assert not any(c.excluded for c in parsed.clauses)


@pytest.mark.parametrize(
    "text",
    [
        "Maske AND",
        "AND Maske",
        "Maske OR",
        "NOT Maske",
        "NEAR Maske",
        "NEAR(Maske",
        "NEAR(Maske)",
        "Maske NEAR(",
        "(Maske)",
        "Maske AND OR NOT NEAR",
    ],
)
def test_capital_operators_are_dropped(text: str) -> None:
    assert parse_query(text).clauses == (Clause(("maske",)),)


def test_lowercase_operators_are_words() -> None:
    assert parse_query("and or not near").clauses == tuple(
        Clause((w,)) for w in ("and", "or", "not", "near")
    )


@pytest.mark.parametrize(
    "text",
    ["", "   ", "AND", "OR NOT", "NEAR(", "NEAR", "*", "**", "-", '"', '""', "🎉", "()", "-Maske"],
)
def test_queries_without_a_positive_word_are_empty(text: str) -> None:
    assert parse_query(text).empty


def test_matches_word() -> None:
    parsed = parse_query('Straße Masken* "Wochenmarkt bleibt" -Winter')
    assert parsed.matches_word(" STRASSE,")
    assert parsed.matches_word(" Straße.")
    assert parsed.matches_word(" Maskenpflicht")
    assert parsed.matches_word(" masken")
    assert parsed.matches_word(" Wochenmarkt")  # a word of the phrase
    assert parsed.matches_word(" bleibt!")
    assert not parsed.matches_word(" Winter")  # excluded words are not highlighted
    assert not parsed.matches_word(" Maske")  # shorter than the prefix
    assert not parsed.matches_word(" Straßenbahn")  # no prefix asked for
    assert not parsed.matches_word(" 🎉")
    assert not parsed.matches_word("")


def test_matches_word_finds_a_part_of_a_hyphenated_spoken_word() -> None:
    assert parse_query("öffnung").matches_word(" Kita-Öffnung")
    assert not parse_query("kita").matches_word(" Kitas")
