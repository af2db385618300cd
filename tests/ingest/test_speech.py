"""No speech lost, no words invented, the language hints in order (issue 8, items 1-3).

The slow tests run the real Whisper base model on a real Common Voice clip that Silero VAD does
not hear (tests/data/README.md) and on non-speech made here with ffmpeg (tests/sounds.py).
"""

from __future__ import annotations

import logging
import wave
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from archive.analysis import terms
from archive.catalog import Catalog
from archive.config import Settings
from archive.search.engines import open_engine
from ingest import fetch, speech
from ingest.pipeline import NO_SPEECH, Context, Pipeline, Request
from ingest.transcribe import transcribe
from tests import media, sounds
from tests.conftest import Served

DATA = Path(__file__).parent.parent / "data"
LOST_CLIP = DATA / "common_voice_de_17516889.wav"  # "die beamten gehen nun verstärkt …"


def decoded(text: str, logprob: float = -0.3, no_speech: float = 0.05) -> speech.Decoded:
    return speech.Decoded(text, logprob, no_speech, 1.2, (0.9,) * len(text.split()))


@pytest.mark.parametrize(
    "text",
    [
        " Untertitel im Auftrag des ZDF, 2017",
        " Untertitelung des ZDF für funk, 2017",
        " Untertitel der Amara.org-Community",
        " Copyright WDR 2021",
        " SWR 2020",
    ],
)
def test_subtitle_credits_are_dropped_however_sure(text: str) -> None:
    assert speech.invented(decoded(text)) == "a subtitle credit"


def test_a_sign_off_is_kept_only_when_confidently_heard() -> None:
    assert speech.invented(decoded(" Vielen Dank fürs Zuschauen.")) is None
    doubtful = decoded(" Vielen Dank fürs Zuschauen.", logprob=-0.6, no_speech=0.4)
    assert speech.invented(doubtful) is not None


@pytest.mark.parametrize(
    ("segment", "reason"),
    [
        (decoded(" Die Erinnerungs-Wenn-Wenn-Wenn-Wenn"), "a repeated loop"),
        (decoded(" und dann und dann und dann und dann"), "a repeated loop"),
        (speech.Decoded(" Text", -0.2, 0.1, 2.9, (0.9,)), "compression ratio 2.90 > 2.4"),
        (decoded(" ...", logprob=-0.1), "no words"),
    ],
)
def test_invented_segments_name_their_reason(segment: speech.Decoded, reason: str) -> None:
    assert (speech.invented(segment) or "").startswith(reason)


def test_doubtful_decodes_are_not_confident() -> None:
    """Where VAD heard nothing, this is what the lost clip gave at threshold 0.35."""
    assert not speech.confident(decoded(" Die Behörde.", logprob=-1.3, no_speech=0.49))
    assert speech.confident(speech.Decoded(" Die Beamten …", -0.57, 0.12, 0.9, (0.64,)))


def test_confident_speech_is_kept() -> None:
    sentence = " Die Maskenpflicht gilt ab Montag in der Innenstadt."
    assert speech.invented(decoded(sentence)) is None
    assert speech.invented(decoded(" Ja, ja, ja, das stimmt.")) is None


def test_active_spans_find_sound_between_quiet_parts() -> None:
    rate = speech.RATE
    rng = np.random.default_rng(1)
    audio = (rng.standard_normal(rate * 6) * 0.001).astype(np.float32)  # -60 dBFS room noise
    audio[2 * rate : 3 * rate] += np.sin(np.arange(rate) * 2 * np.pi * 200 / rate) * 0.3
    [(start, end)] = speech.active_spans(audio)
    assert start == pytest.approx(2.0 - speech.PAD, abs=0.03)
    assert end == pytest.approx(3.0 + speech.PAD, abs=0.03)
    assert speech.active_spans(np.zeros(rate * 3, dtype=np.float32)) == []


def test_missed_spans_are_what_vad_did_not_keep() -> None:
    active = [(0.0, 10.0), (20.0, 20.8)]
    assert speech.missed(active, [(2.0, 4.0), (4.2, 9.8)]) == [(0.0, 2.0)]
    assert speech.missed(active, []) == [(0.0, 10.0)]
    assert speech.merge([(3.0, 4.0), (0.0, 1.0), (0.5, 2.0)]) == [(0.0, 2.0), (3.0, 4.0)]


# the language order: command, sidecar, source, yt-dlp, setting


@pytest.mark.parametrize(
    ("command", "sidecar", "source", "ytdlp", "setting", "language", "fallback"),
    [
        ("fr", "en", "it", "es", "de", "fr", "en"),
        (None, "en", "it", "es", "de", "en", "it"),
        (None, None, "it", "es", "de", "it", "es"),
        (None, None, None, "es", "de", "es", "de"),
        (None, None, None, None, "de", "de", None),
        ("auto", None, None, "en", "de", None, "en"),
        (None, "auto", None, None, "de", None, "de"),
        (None, None, None, None, "auto", None, None),
    ],
)
def test_language_hints_apply_in_order(
    command: str | None,
    sidecar: str | None,
    source: str | None,
    ytdlp: str | None,
    setting: str,
    language: str | None,
    fallback: str | None,
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", language=setting)
    candidate = fetch.Candidate(
        origin="file:x", title="x", language=ytdlp, sidecar_language=sidecar
    )
    request = Request("x.mp4", language=command, source_language=source)
    with Catalog(settings.catalog_path) as catalog:
        pipeline = Pipeline(settings, catalog, open_engine(settings, catalog))
        draft = pipeline._new_statement(candidate, request)
        context = Context(request, candidate, draft)
        assert pipeline._language(context) == language
        assert pipeline._fallback_language(context) == fallback


# the real model


def _words(transcript: Any) -> list[str]:
    return [word.text for segment in transcript.segments for word in segment.words]


@pytest.mark.slow
def test_speech_vad_does_not_hear_is_transcribed(whisper_model: Any) -> None:
    """With the old settings (`vad_filter=True`, Silero's defaults) this clip came back empty;
    the pipeline now hears it."""
    old, _ = whisper_model.transcribe(
        str(LOST_CLIP), language="de", vad_filter=True, word_timestamps=True, beam_size=5
    )
    assert [segment.text for segment in old] == []
    transcript = transcribe(whisper_model, LOST_CLIP, language="de")
    heard = terms(" ".join(segment.text for segment in transcript.segments))
    assert {"beamt", "illegal", "verstarkt"} <= set(heard), heard


@pytest.mark.slow
@pytest.mark.parametrize("name", list(sounds.SOUNDS))
def test_non_speech_gives_no_words(
    name: str, tmp_path: Path, whisper_model: Any, caplog: pytest.LogCaptureFixture
) -> None:
    path = sounds.make(name, 40.0, tmp_path / f"{name}.wav")
    with caplog.at_level(logging.INFO, logger="ingest.transcribe"):
        transcript = transcribe(whisper_model, path, language="de")
    assert _words(transcript) == []
    assert transcript.duration == pytest.approx(40.0, abs=0.1)
    for record in caplog.records:  # what was dropped is logged with its time
        if record.getMessage().startswith("dropped"):
            assert " s " in record.getMessage()


@pytest.mark.slow
def test_speech_after_music_and_before_long_silence(tmp_path: Path, whisper_model: Any) -> None:
    """A music intro, the clip VAD does not hear, espeak-ng speech, then a minute of silence:
    the speech is all there, and nothing is written over the music or the silence."""
    spoken = media.build_speech(media.SPEECH_A, tmp_path, "a", lead=1.0, gap=1.0)
    intro = sounds.make("music", 15.0, tmp_path / "intro.wav")
    pause = sounds.make("silence", 3.0, tmp_path / "pause.wav")
    tail = sounds.make("silence", 60.0, tmp_path / "tail.wav")
    path = sounds.join([intro, pause, LOST_CLIP, pause, spoken.path, tail], tmp_path / "all.wav")
    with wave.open(str(path)) as handle:
        total = handle.getnframes() / handle.getframerate()
    speech_end = total - 60.0
    transcript = transcribe(whisper_model, path, language="de")
    heard = terms(" ".join(_words(transcript)))
    assert {"beamt", "verstarkt", "innenstadt", "wochenmarkt"} <= set(heard), heard
    for segment in transcript.segments:
        for word in segment.words:
            assert 15.0 <= word.start <= speech_end + 1.0, (word, segment.text)


@pytest.mark.slow
def test_unsure_detection_falls_back_and_says_so(server: Served, whisper_model: Any) -> None:
    """The base model takes espeak-ng's German for English at p < 0.5: with a fallback, the
    transcript is German and its note says why."""
    from faster_whisper import decode_audio

    path = server.clips["a.mp4"].path
    audio = decode_audio(str(path), sampling_rate=speech.RATE)
    detected, probability, _ = whisper_model.detect_language(audio, vad_filter=True)
    assert probability < 0.5, (detected, probability)
    transcript = transcribe(whisper_model, path, language=None, fallback="de")
    assert transcript.language == "de"
    assert transcript.note is not None
    assert f"unsure ({detected}, p " in transcript.note and "transcribed as de" in transcript.note
    assert "maskenpflicht" in terms(" ".join(_words(transcript)))


@pytest.mark.slow
def test_pipeline_stores_no_speech_and_the_language_note(
    tmp_path: Path, server: Served, whisper_model: Any, settings: Settings
) -> None:
    noise = sounds.make("pink-noise", 20.0, tmp_path / "noise.wav")
    with Catalog(settings.catalog_path) as catalog:
        pipeline = Pipeline(settings, catalog, open_engine(settings, catalog), model=whisper_model)
        quiet = pipeline.ingest(Request(str(noise))).statement
        assert (quiet.note, catalog.segments(quiet.id)) == (NO_SPEECH, [])
        spoken = pipeline.ingest(Request(str(server.clips["a.mp4"].path), language="auto"))
        statement = spoken.statement
        assert statement.language == "de"
        assert statement.note and "language detection was unsure" in statement.note


def test_text_faster_than_anyone_speaks_is_invented() -> None:
    """A sample's last 0.38 s held 69 characters after the real speech had ended."""
    said = " Die Bauarbeiten, die Bauarbeiten, sind von der Bauform mit fliegert."
    doubtful = replace(decoded(said, logprob=-1.1), seconds=0.38)
    assert (speech.invented(doubtful) or "").endswith("faster than anyone speaks")
    sure = replace(decoded(said), seconds=0.38)  # confident, yet 180 characters a second
    assert speech.invented(sure) is not None
    # Fast but possible speech, and a short word said quickly, are kept.
    assert speech.invented(replace(decoded(said, logprob=-1.1), seconds=3.0)) is None
    assert speech.invented(replace(decoded(" Danke schön.", logprob=-1.1), seconds=0.2)) is None
    assert speech.invented(replace(decoded(said), seconds=1.2)) is None  # 57 a second, confident
