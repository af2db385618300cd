"""The source's own captions as the transcript: which track, how it is read, how it is checked.

Captions a city publishes were made (or at least corrected) by people, so where a source has
them they beat any machine transcript; Whisper then runs only when the setting
`whisper_with_captions` asks for it, to report how far the two differ (the WER, in the
statement's note and the log), while the captions stay the transcript.

- **Which track.** Only captions in the statement's language are taken: a track in another
  language is a translation, not what was said. Among those, a track tagged with exactly that
  code ("de") comes before a regional one ("de-DE"), then the order the source lists them in;
  a track whose language the source does not say is taken only when it is the only one offered
  (a `video.srt` beside `video.mp4`). yt-dlp's `automatic_captions` are never offered: they are
  a machine transcript, and a worse one than ours.
- **Read with real parsers**: webvtt-py for WebVTT (files that begin with `WEBVTT`), `srt` for
  the rest, both strict, so that a malformed file is reported rather than read in part.
- **Checked where they enter.** A file that does not parse, holds no text, or has absurd times
  (negative, ending before it starts, running past the media's end) raises `BadCaptions` naming
  the file or URL; the pipeline says so and falls back to Whisper.
- **Word times.** Captions time cues, not words; each cue's time is shared out among its words
  by their length in characters plus one (the pause after a word). Against the times Whisper
  gave 429 words of 31 real German clips (bench/source_captions.py), the word boundaries this
  spreads are 259 ms off on average (p90 672 ms), by characters alone 282 ms (747 ms), in equal
  shares 264 ms (657 ms): close, since Whisper's own word times are that coarse, but length
  with its pause is the best mean.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

import srt  # type: ignore[import-untyped]
import webvtt
from rapidfuzz.distance import Levenshtein
from webvtt.errors import MalformedCaptionError, MalformedFileError

from archive.errors import FetchError, InvalidInput
from archive.models import CAPTIONS_FROM_SOURCE, Segment, Transcript, Word
from archive.text import clean_text
from ingest.fetch import CaptionTrack, read_captions

# A cue may run this far past the media's end (players and editors round up) before the file is
# taken to belong to other media.
_END_SLACK = 2.0
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")  # HTML-ish tags in SRT, ASS overrides like {\an8}
_SOUND = re.compile(r"\[[^\]]*\]|\([^)]*\)|♪[^♪]*♪?")  # [Applaus], (Musik), ♪ … ♪
_NOT_WORD = re.compile(r"[^\w\s]")


class BadCaptions(InvalidInput):
    """Captions that cannot serve as the transcript; the message names the file or URL."""


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def choose_track(tracks: Sequence[CaptionTrack], language: str | None) -> CaptionTrack | None:
    """The track to use as the transcript of a statement spoken in `language` (None: unknown),
    or None. See the module docstring for the order."""
    if language is not None:
        matching = [t for t in tracks if t.language == language]
        if matching:
            exact = [t for t in matching if t.label.lower() == language]
            return (exact or matching)[0]
    if len(tracks) == 1 and (tracks[0].language is None or language is None):
        return tracks[0]
    return None


def parse_captions(text: str, name: str, duration: float | None = None) -> list[Cue]:
    """The cues of a WebVTT or SRT text, in time order and without overlaps; BadCaptions naming
    `name` when they cannot serve as a transcript of media `duration` seconds long."""
    body = text.lstrip("\ufeff")
    cues = _read_vtt(body, name) if body.lstrip().startswith("WEBVTT") else _read_srt(body, name)
    cues = [cue for cue in cues if cue.text]
    if not cues:
        raise BadCaptions(f"{name}: the captions hold no text")
    for cue in cues:
        if cue.start < 0 or cue.end < cue.start:
            raise BadCaptions(
                f"{name}: a cue runs from {_clock(cue.start)} to {_clock(cue.end)}, which is "
                f"not a time span ({cue.text[:40]!r})"
            )
        if duration is not None and cue.end > duration * 1.01 + _END_SLACK:
            raise BadCaptions(
                f"{name}: a cue at {_clock(cue.start)} runs to {_clock(cue.end)}, past the end "
                f"of the media ({_clock(duration)}); are they the captions of other media?"
            )
    return _without_overlaps(sorted(cues, key=lambda cue: (cue.start, cue.end)))


def captions_transcript(cues: Sequence[Cue], language: str, duration: float | None) -> Transcript:
    """The cues as a transcript marked as the source's, one segment per cue."""
    segments = tuple(
        Segment(cue.start, cue.end, cue.text, spread_words(cue.text, cue.start, cue.end))
        for cue in cues
    )
    end = max(cue.end for cue in cues) if cues else 0.0
    return Transcript(
        language=language,
        duration=max(duration or 0.0, end),
        segments=segments,
        origin=CAPTIONS_FROM_SOURCE,
    )


def spread_words(text: str, start: float, end: float) -> tuple[Word, ...]:
    """The words of a cue, each given a share of the cue's time in proportion to its length in
    characters plus one (the pause after it); written as Whisper writes words (with their
    leading space)."""
    words = text.split()
    total = sum(len(word) + 1 for word in words)
    span = end - start
    timed: list[Word] = []
    done = 0
    for word in words:
        begin = start + span * done / total
        done += len(word) + 1
        timed.append(Word(round(begin, 3), round(start + span * done / total, 3), " " + word))
    return tuple(timed)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word edits from reference to hypothesis, over the reference's words, with both sides
    lowercased, without punctuation and without sound descriptions like "[Applaus]" (the way
    MEASUREMENTS.md takes WER)."""
    expected, found = _wer_words(reference), _wer_words(hypothesis)
    if not expected:
        return 0.0 if not found else 1.0
    return Levenshtein.distance(expected, found) / len(expected)


def transcript_text(transcript: Transcript) -> str:
    return " ".join(segment.text.strip() for segment in transcript.segments)


def _wer_words(text: str) -> list[str]:
    return _NOT_WORD.sub(" ", _SOUND.sub(" ", text).lower()).split()


def _read_vtt(text: str, name: str) -> list[Cue]:
    try:
        captions = webvtt.from_string(text, strict=True).captions
    except (MalformedFileError, MalformedCaptionError) as error:
        raise BadCaptions(f"{name}: not readable WebVTT ({error})") from None
    return [
        Cue(
            caption.start_time.in_milliseconds() / 1000,
            caption.end_time.in_milliseconds() / 1000,
            _cue_text(caption.text),
        )
        for caption in captions
    ]


def _read_srt(text: str, name: str) -> list[Cue]:
    try:
        subtitles = list(srt.parse(text))
    except (srt.SRTParseError, ValueError) as error:
        raise BadCaptions(f"{name}: neither WebVTT nor readable SRT ({error})") from None
    return [
        Cue(sub.start.total_seconds(), sub.end.total_seconds(), _cue_text(sub.content))
        for sub in subtitles
    ]


def _cue_text(raw: str) -> str:
    """A cue's lines as one line of text: tags removed, entities decoded, control characters
    and escape sequences removed (text from outside), spaces collapsed."""
    return clean_text(html.unescape(_TAG.sub("", raw)))


def _without_overlaps(cues: list[Cue]) -> list[Cue]:
    """Cues in order with none starting before the previous one ends, so that word times only
    grow: an overlapping cue starts where the previous one ends, and one that lies wholly inside
    the previous one joins its text."""
    kept: list[Cue] = []
    for cue in cues:
        if kept and cue.start < kept[-1].end:
            previous = kept[-1]
            if cue.end <= previous.end:
                kept[-1] = Cue(previous.start, previous.end, f"{previous.text} {cue.text}")
                continue
            cue = Cue(previous.end, cue.end, cue.text)
        kept.append(cue)
    return kept


def _clock(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    whole = abs(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{int(hours):02d}:{int(minutes):02d}:{secs:06.3f}"


def load_captions(track: CaptionTrack, language: str, duration: float | None) -> Transcript:
    """The track read, parsed and checked, as the transcript of media `duration` seconds long;
    BadCaptions naming the track when it cannot be had or cannot serve."""
    try:
        text = read_captions(track)
    except FetchError as error:
        raise BadCaptions(error.message) from None
    return captions_transcript(parse_captions(text, track.name, duration), language, duration)
