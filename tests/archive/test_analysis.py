"""Text analysis shared by indexing, querying and highlighting."""

from __future__ import annotations

import pytest

from archive.analysis import Clause, analyse, fold, parse_query, term, terms, words


def shape(clauses: tuple[Clause, ...]) -> list[tuple[tuple[str, ...], bool, bool]]:
    """A clause as (words as written, prefix, excluded); its terms are term() of its words."""
    for clause in clauses:
        assert clause.terms == tuple(term(w) for w in clause.written)
    return [(c.written, c.prefix, c.excluded) for c in clauses]


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
    written = ["Liebe", "Bürger", "die", "Straße", "B", "51", "wird", "ab", "Montag", "gesperrt"]
    assert words(text) == [*written, "Danke"]
    assert terms(text) == [term(w) for w in [*written, "Danke"]]
    assert terms(text)[:4] == ["lieb", "burg", "die", "strass"]


@pytest.mark.parametrize(
    "spellings",
    [
        ("Krankenhäusern", "Krankenhaeuser", "Krankenhaus"),
        ("Bürgermeister", "Buergermeister", "Burgermeister", "BÜRGERMEISTER"),
        ("Straße", "Strasse", "Straßen"),
        ("Förde", "Foerde", "Forde"),
        ("Kita", "Kitas"),
        ("Maske", "Masken"),
        ("Pflegekraft", "Pflegekräfte", "Pflegekräften"),
    ],
)
def test_spellings_and_inflections_share_a_term(spellings: tuple[str, ...]) -> None:
    assert len({term(s) for s in spellings}) == 1


@pytest.mark.parametrize(
    ("compound", "head", "modifier"),
    [
        ("Maskenpflicht", "Pflicht", "Maske"),
        ("Schatzkarte", "Karte", "Schatz"),
        ("Gewerbesteuer", "Steuer", "Gewerbe"),
        ("Notbetreuung", "Betreuung", "Not"),
        ("Oberbürgermeister", "Bürgermeister", "Ober"),
        ("Oberbürgermeister", "Meister", "Bürger"),
        ("Straßenbahn", "Bahn", "Straße"),
    ],
)
def test_compounds_carry_their_heads_and_modifiers(compound: str, head: str, modifier: str) -> None:
    analysed = analyse(compound)
    assert term(head) in analysed.heads
    assert term(modifier) in analysed.modifiers


@pytest.mark.parametrize(
    "word", ["Verantwortung", "Gemeinde", "Bürgerinnen", "Erzieherinnen", "Kindergarten2"]
)
def test_non_compounds_stay_whole(word: str) -> None:
    analysed = analyse(word)
    assert analysed.heads == () and analysed.modifiers == ()


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
    assert shape(parsed.clauses) == [(("Maskenpflicht",), False, False), (("Bus",), False, False)]
    assert parsed.positive == parsed.clauses
    assert not parsed.empty


def test_quoted_phrase_is_one_clause() -> None:
    parsed = parse_query('"Der Wochenmarkt bleibt" offen')
    assert shape(parsed.clauses) == [
        (("Der", "Wochenmarkt", "bleibt"), False, False),
        (("offen",), False, False),
    ]
    assert parsed.clauses[0].phrase
    assert not parsed.clauses[1].phrase


def test_minus_excludes_a_word_or_a_phrase() -> None:
    parsed = parse_query('Markt -Winter -"im Sommer"')
    assert shape(parsed.positive) == [(("Markt",), False, False)]
    assert shape(parsed.excluded) == [(("Winter",), False, True), (("im", "Sommer"), False, True)]


def test_only_excluded_clauses_make_an_empty_query() -> None:
    parsed = parse_query("-Winter")
    assert parsed.excluded and parsed.empty


def test_star_makes_a_prefix_of_three_letters_or_more() -> None:
    assert shape(parse_query("Masken*").clauses) == [(("Masken",), True, False)]
    assert shape(parse_query("-Masken*").clauses) == [(("Masken",), True, True)]
    assert shape(parse_query("Ma*").clauses) == [(("Ma",), False, False)]
    # inside a word a star is just a separator
    assert shape(parse_query("Mas*ken").clauses) == [
        (("Mas",), False, False),
        (("ken",), False, False),
    ]


def test_hyphenated_word_needs_every_part_and_keeps_the_prefix_on_the_last() -> None:
    assert shape(parse_query("Kita-Öffn*").clauses) == [
        (("Kita",), False, False),
        (("Öffn",), True, False),
    ]


@pytest.mark.parametrize(
    "text", ['"Maske', 'Maske"', 'Ma"ske', '"Maske" "', '""Maske', 'Maske """']
)
def test_unbalanced_quotes_are_ignored(text: str) -> None:
    parsed = parse_query(text)
    assert [c.written for c in parsed.clauses] in ([("Maske",)], [("Ma",), ("ske",)])
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
    assert shape(parse_query(text).clauses) == [(("Maske",), False, False)]


def test_lowercase_operators_are_words() -> None:
    assert shape(parse_query("and or not near").clauses) == [
        ((w,), False, False) for w in ("and", "or", "not", "near")
    ]


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
    assert parsed.matches_word(" Maske")  # the prefix is stemmed, as the index is: "mask*"
    assert parsed.matches_word(" Straßenbahn")  # a compound whose modifier is Straße
    assert not parsed.matches_word(" Strauß")
    assert not parsed.matches_word(" 🎉")
    assert not parsed.matches_word("")


def test_matches_word_finds_a_part_of_a_hyphenated_spoken_word() -> None:
    assert parse_query("öffnung").matches_word(" Kita-Öffnung")
    assert parse_query("kita").matches_word(" Kitas")  # plural of a loanword
    assert not parse_query("kita").matches_word(" Kitt")
