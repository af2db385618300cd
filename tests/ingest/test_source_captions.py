"""The source's own captions as the transcript (issue 8, item 8): yt-dlp's non-automatic
subtitles, a page's `<track>` read by real yt-dlp from a local server, and `.srt`/`.vtt` files
beside a local file; parsed with webvtt-py and `srt`; bad ones fall back to Whisper, said."""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jiwer
import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.export import StatementDetail
from archive.models import CAPTIONS_FROM_SOURCE, TRANSCRIBED_BY_WHISPER, Status, Transcript
from archive.search import Query
from archive.search.engines import open_engine
from ingest import fetch
from ingest.fetch import CaptionTrack, caption_tracks, local_caption_tracks, probe_url
from ingest.pipeline import Pipeline, Request
from ingest.source_captions import (
    BadCaptions,
    choose_track,
    load_captions,
    parse_captions,
    spread_words,
    word_error_rate,
)
from ingest.transcribe import transcribe
from tests.conftest import Served
from tests.media import WORD_OFFSET

# The two sentences of the served clip a.mp4 (tests/media.py SPEECH_A: 3 s of silence, then each
# sentence followed by 2 s), timed as the fixture placed them.
SENTENCE_1 = "Die Maskenpflicht gilt ab Montag in der Innenstadt."
SENTENCE_2 = "Der Wochenmarkt am Bahnhof öffnet wieder für alle."


def cue_times(server: Served, name: str = "a.mp4") -> list[tuple[float, float]]:
    """Where the fixture placed the two sentences of a served clip (tests/media.py)."""
    clip = server.clips[name]
    second = max(clip.placed.values()) - WORD_OFFSET
    return [(3.0, second - 2.0), (second, clip.duration - 2.0)]


def clock(seconds: float, comma: bool) -> str:
    minutes, secs = divmod(seconds, 60)
    text = f"00:{int(minutes):02d}:{secs:06.3f}"
    return text.replace(".", ",") if comma else text


def as_srt(cues: list[tuple[float, float, str]]) -> str:
    return "".join(
        f"{n}\n{clock(a, True)} --> {clock(b, True)}\n{text}\n\n"
        for n, (a, b, text) in enumerate(cues, 1)
    )


def as_vtt(cues: list[tuple[float, float, str]]) -> str:
    blocks = "".join(f"{clock(a, False)} --> {clock(b, False)}\n{text}\n\n" for a, b, text in cues)
    return "WEBVTT\n\n" + blocks


def clip_captions(
    server: Served, text: tuple[str, str] = (SENTENCE_1, SENTENCE_2), name: str = "a.mp4"
) -> list[tuple[float, float, str]]:
    return [(a, b, line) for (a, b), line in zip(cue_times(server, name), text, strict=True)]


@dataclass
class Recorder:
    """A reporter that keeps what the pipeline tells a person."""

    messages: list[str] = field(default_factory=list)

    def stage(self, name: str, total: float | None) -> None:
        pass

    def advance(self, done: float, total: float | None) -> None:
        pass

    def message(self, text: str) -> None:
        self.messages.append(text)


def no_whisper(tmp_path: Path, **options: Any) -> Settings:
    """Settings whose Whisper model cannot load: an ingest that succeeds never ran Whisper."""
    settings = Settings(data_dir=tmp_path / "data", model=str(tmp_path / "no-model"), **options)
    settings.prepare()
    return settings


def ingest(settings: Settings, target: str, model: Any = None) -> tuple[Pipeline, str, Recorder]:
    """Ingest through the real pipeline; the caller closes `pipeline.catalog`."""
    recorder = Recorder()
    catalog = Catalog(settings.catalog_path)
    pipeline = Pipeline(settings, catalog, open_engine(settings, catalog), recorder, model=model)
    outcome = pipeline.ingest(Request(target))
    assert outcome.statement.status == Status.INDEXED, outcome.statement.error
    return pipeline, outcome.statement.id, recorder


def saved(catalog: Catalog, statement_id: str) -> Transcript:
    transcript = catalog.transcript(statement_id)
    assert transcript is not None
    return transcript


def assert_is_clip_a_captions(transcript: Transcript, server: Served) -> None:
    assert transcript.origin == CAPTIONS_FROM_SOURCE
    assert transcript.language == "de"
    assert [s.text for s in transcript.segments] == [SENTENCE_1, SENTENCE_2]
    for segment, (start, end) in zip(transcript.segments, cue_times(server), strict=True):
        assert segment.start == pytest.approx(start, abs=0.001)
        assert segment.end == pytest.approx(end, abs=0.001)
        assert segment.words[0].start == pytest.approx(segment.start, abs=0.01)
        assert segment.words[-1].end == pytest.approx(segment.end, abs=0.01)  # kept to 10 ms
        assert "".join(w.text for w in segment.words).strip() == segment.text


# Parsing: real webvtt-py and srt


@pytest.mark.parametrize(("write", "placement"), [(as_srt, "{\\an8}"), (as_vtt, "")])
def test_cues_become_segments_with_words_spread_by_length(write: Any, placement: str) -> None:
    """Tags, an SRT's ASS placement and entities go; the lines of a cue become one text."""
    text = write(
        [
            (1.0, 3.5, "<i>Liebe</i> Bürgerinnen\nund Bürger,"),
            (4.0, 7.0, f"{placement}die Maskenpflicht &amp; der Wochenmarkt"),
        ]
    )
    cues = parse_captions(text, "rede.captions", duration=8.0)
    assert [c.text for c in cues] == [
        "Liebe Bürgerinnen und Bürger,",
        "die Maskenpflicht & der Wochenmarkt",
    ]
    words = spread_words(cues[1].text, cues[1].start, cues[1].end)
    assert [w.text for w in words] == [" die", " Maskenpflicht", " &", " der", " Wochenmarkt"]
    assert words[0].start == 4.0 and words[-1].end == 7.0
    for before, after in itertools.pairwise(words):
        assert before.end == after.start
    durations = {w.text.strip(): w.end - w.start for w in words}
    # 31 characters and 5 pauses over 3 s: "Maskenpflicht" gets 14/36 of it, "die" 4/36.
    assert durations["Maskenpflicht"] == pytest.approx(3.0 * 14 / 36, abs=0.002)
    assert durations["die"] == pytest.approx(3.0 * 4 / 36, abs=0.002)


def test_control_characters_and_escape_sequences_in_cues_are_removed() -> None:
    cues = parse_captions(as_srt([(1.0, 2.0, "Hallo\x1b[2J Bürger\x07innen\x1b]0;t\x07!")]), "r")
    assert [c.text for c in cues] == ["Hallo Bürgerinnen!"]


def test_overlapping_cues_are_put_in_order_without_overlap() -> None:
    text = as_srt([(5.0, 8.0, "zweite Zeile"), (1.0, 6.0, "erste Zeile"), (6.5, 7.5, "innen")])
    cues = parse_captions(text, "rede.srt")
    assert [(c.start, c.end, c.text) for c in cues] == [
        (1.0, 6.0, "erste Zeile"),
        (6.0, 8.0, "zweite Zeile innen"),
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("das sind keine Untertitel\nsondern Text\n", "neither WebVTT nor readable SRT"),
        ("", "the captions hold no text"),
        ("WEBVTT\n\n", "the captions hold no text"),
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\n", "the captions hold no text"),
        ("WEBVTT\n\n00:00:xx.000 --> 00:00:02.000\nHallo\n\n", "not readable WebVTT"),
        (as_srt([(4.0, 2.0, "rückwärts")]), "from 00:00:04.000 to 00:00:02.000"),
        (as_srt([(1.0, 2.0, "gut"), (60.0, 62.0, "zu spät")]), "past the end of the media"),
        ("\x89PNG\r\n\x1a\n\x00\x00 binary", "neither WebVTT nor readable SRT"),
    ],
)
def test_bad_captions_name_the_file_in_one_line(content: str, expected: str) -> None:
    with pytest.raises(BadCaptions) as caught:
        parse_captions(content, "/srv/rede.de.srt", duration=12.0)
    message = caught.value.message
    assert message.startswith("/srv/rede.de.srt: "), message
    assert expected in message
    assert "\n" not in message


def test_captions_a_server_does_not_give_are_bad_captions(server: Served) -> None:
    track = CaptionTrack(server.url("missing.vtt"), "de", "de")
    with pytest.raises(BadCaptions, match=r"missing\.vtt: cannot read the captions.*404"):
        load_captions(track, "de", 10.0)


# Which track


def track(label: str, name: str = "") -> CaptionTrack:
    return CaptionTrack(
        name or f"https://example.org/{label}.vtt", fetch._caption_language(label), label
    )


def test_the_track_in_the_statements_language_is_chosen() -> None:
    english, regional, german = track("en"), track("de-DE"), track("de")
    assert choose_track([english, regional, german], "de") is german
    assert choose_track([english, regional], "de") is regional
    assert choose_track([english], "de") is None  # a translation is not what was said
    unlabelled = track("Deutsch")
    assert unlabelled.language is None
    assert choose_track([unlabelled], "de") is unlabelled
    assert choose_track([unlabelled, english], "de") is None
    assert choose_track([english], None) is english
    assert choose_track([english, german], None) is None
    assert choose_track([], "de") is None


def test_only_subtitles_people_made_are_offered() -> None:
    info = {
        "webpage_url": "https://example.org/rede",
        "subtitles": {
            "de": [
                {"ext": "ttml", "url": "https://example.org/de.ttml"},
                {"ext": "srt", "url": "https://example.org/de.srt"},
                {"ext": "vtt", "url": "https://example.org/de.vtt"},
            ],
            "fr": [{"ext": "json3", "url": "https://example.org/fr.json3"}],
            "live_chat": [{"ext": "json", "url": "https://example.org/chat"}],
        },
        "automatic_captions": {"en": [{"ext": "vtt", "url": "https://example.org/auto.vtt"}]},
    }
    assert caption_tracks(info) == (CaptionTrack("https://example.org/de.vtt", "de", "de"),)
    assert caption_tracks({"automatic_captions": info["automatic_captions"]}) == ()


def test_caption_files_beside_a_local_file(tmp_path: Path) -> None:
    media = tmp_path / "rede [1].mp4"
    for name in ("rede [1].srt", "rede [1].de.vtt", "rede [1].de.srt", "rede [1].final.srt"):
        (tmp_path / name).write_text("")
    (tmp_path / "rede [1].json").write_text("{}")
    (tmp_path / "andere.srt").write_text("")
    tracks = local_caption_tracks(media)
    assert [(Path(t.name).name, t.language) for t in tracks] == [
        ("rede [1].srt", None),
        ("rede [1].de.vtt", "de"),
        ("rede [1].de.srt", "de"),
    ]
    assert choose_track(tracks, "de") == tracks[1]


def test_word_error_rate_is_taken_as_jiwer_takes_it() -> None:
    pairs = [
        (SENTENCE_1, "Die Maskenpflicht gilt hat Montag in der Innenstadt."),
        ("[Applaus] Liebe Bürgerinnen, liebe Bürger!", "liebe bürgerinnen liebe bürger"),
        (SENTENCE_2, "Der Wochenmarkt öffnet wieder, für alle und jeden."),
    ]
    normalise = jiwer.Compose(
        [
            jiwer.SubstituteRegexes({r"\[[^\]]*\]": " "}),
            jiwer.ToLowerCase(),
            jiwer.RemovePunctuation(),
            jiwer.RemoveMultipleSpaces(),
            jiwer.Strip(),
            jiwer.ReduceToListOfListOfWords(),
        ]
    )
    for reference, hypothesis in pairs:
        expected = jiwer.wer(
            reference,
            hypothesis,
            reference_transform=normalise,
            hypothesis_transform=normalise,
        )
        assert word_error_rate(reference, hypothesis) == pytest.approx(expected)
    assert word_error_rate(pairs[1][0], pairs[1][1]) == 0.0


# Through the pipeline: real yt-dlp against the local server, real files, real Whisper


@pytest.fixture
def captioned_page(server: Served) -> Iterator[str]:
    """An HTML5 page with a <video> and two <track>s, English first, served locally."""
    names = ["captioned.mp4", "captioned.en.vtt", "captioned.de.vtt", "captioned.html"]
    shutil.copyfile(server.root / "a.mp4", server.root / names[0])
    english = ("The mask mandate applies from Monday.", "The weekly market opens again.")
    (server.root / names[1]).write_text(as_vtt(clip_captions(server, english)))
    (server.root / names[2]).write_text(as_vtt(clip_captions(server)))
    (server.root / names[3]).write_text(
        "<!doctype html><html><head><title>Maskenpflicht</title></head><body>"
        '<video controls src="captioned.mp4">'
        '<track kind="subtitles" src="captioned.en.vtt" srclang="en" label="English">'
        '<track kind="captions" src="captioned.de.vtt" srclang="de" label="Deutsch" default>'
        "</video></body></html>"
    )
    yield server.url(names[3])
    for name in names:
        (server.root / name).unlink()


@pytest.mark.slow
def test_a_pages_track_in_the_statements_language_is_the_transcript(
    captioned_page: str, server: Served, tmp_path: Path
) -> None:
    candidate = probe_url(captioned_page)
    assert [t.language for t in candidate.captions] == ["en", "de"]

    pipeline, statement_id, recorder = ingest(no_whisper(tmp_path), captioned_page)
    with pipeline.catalog as catalog:
        assert_is_clip_a_captions(saved(catalog, statement_id), server)
        assert catalog.get(statement_id).note is None
        assert any(server.url("captioned.de.vtt") in m for m in recorder.messages)
        hits = pipeline.engine.search(Query("Wochenmarkt Bahnhof"))
        assert [s.statement_id for s in hits.statements] == [statement_id]
        assert pipeline.engine.search(Query("weekly")).total == 0


@pytest.fixture
def rede(tmp_path: Path, server: Served) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    path = folder / "rede.mp4"
    shutil.copyfile(server.root / "a.mp4", path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("suffix", "write"), [(".srt", as_srt), (".de.vtt", as_vtt)])
def test_captions_beside_a_local_file_are_the_transcript(
    suffix: str, write: Any, rede: Path, server: Served, tmp_path: Path
) -> None:
    rede.with_name(f"rede{suffix}").write_text(write(clip_captions(server)))
    pipeline, statement_id, _ = ingest(no_whisper(tmp_path), str(rede))
    with pipeline.catalog as catalog:
        assert_is_clip_a_captions(saved(catalog, statement_id), server)
        assert catalog.get(statement_id).note is None


@pytest.mark.slow
def test_bad_captions_are_said_and_whisper_transcribes(
    rede: Path, settings: Settings, whisper_model: Any
) -> None:
    bad = rede.with_name("rede.srt")
    bad.write_text(as_srt([(3.0, 5.0, "Die Maskenpflicht"), (8.0, 10.0, "Der Wochenmarkt")]))
    bad.write_text(bad.read_text().replace("00:00:08,000", "00:00:0x,000"))  # a typo in a time
    pipeline, statement_id, recorder = ingest(settings, str(rede), whisper_model)
    with pipeline.catalog as catalog:
        transcript = saved(catalog, statement_id)
        assert transcript.origin == TRANSCRIBED_BY_WHISPER
        assert "Wochenmarkt" in " ".join(s.text for s in transcript.segments)
        note = catalog.get(statement_id).note or ""
        assert f"the source's captions were not used: {bad}: neither WebVTT nor" in note
        assert [m for m in recorder.messages if m.startswith(f"{bad}: ")] == [
            m for m in recorder.messages if "transcribing with Whisper instead" in m
        ]
        assert len([m for m in recorder.messages if m.startswith(f"{bad}: ")]) == 1


WER_NOTE = re.compile(r"Whisper's transcript differs from the source's captions by ([\d.]+)% WER")


@pytest.mark.slow
def test_with_whisper_as_well_the_note_gives_the_wer_and_the_captions_stay(
    rede: Path, server: Served, tmp_path: Path, model_dir: Path, whisper_model: Any
) -> None:
    rede.with_name("rede.srt").write_text(as_srt(clip_captions(server)))
    settings = Settings(
        data_dir=tmp_path / "data", model=str(model_dir), whisper_with_captions=True
    )
    pipeline, statement_id, _ = ingest(settings, str(rede), whisper_model)
    with pipeline.catalog as catalog:
        assert_is_clip_a_captions(saved(catalog, statement_id), server)
        note = catalog.get(statement_id).note or ""
    match = WER_NOTE.fullmatch(note)
    assert match, note
    whisper = transcribe(whisper_model, rede, language="de")
    heard = " ".join(s.text for s in whisper.segments)
    expected = jiwer.wer(_plain(f"{SENTENCE_1} {SENTENCE_2}"), _plain(heard))
    assert float(match.group(1)) == pytest.approx(100 * expected, abs=0.05)
    assert expected < 0.5  # Whisper heard most of what the captions say

    # Captions timed to other speech: the WER says they disagree.
    other = rede.with_name("andere.webm")
    shutil.copyfile(server.root / "b.webm", other)
    wrong = ("Der Gemeinderat tagt morgen im Rathaus.", "Die Feuerwehr bekommt neue Fahrzeuge.")
    other.with_name("andere.srt").write_text(as_srt(clip_captions(server, wrong, "b.webm")))
    pipeline, statement_id, _ = ingest(settings, str(other), whisper_model)
    with pipeline.catalog as catalog:
        assert saved(catalog, statement_id).origin == CAPTIONS_FROM_SOURCE
        statement = catalog.get(statement_id)
        detail = StatementDetail.with_transcript(statement, catalog.segments(statement_id), None)
        assert detail.transcript_origin == "source"  # what the API's statement detail says
        wrong_match = WER_NOTE.fullmatch(catalog.get(statement_id).note or "")
    assert wrong_match and float(wrong_match.group(1)) > 80


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
