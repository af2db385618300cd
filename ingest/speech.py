"""What counts as speech, and what Whisper wrote that nobody said: the rules, without the model.

Two failures, both measured on real clips (bench/transcribe.py, MEASUREMENTS.md):

- **Speech lost.** Silero VAD is blind to some voices: on the clear Common Voice clip
  `common_voice_de_17516889` its speech probability never passes 0.39, so faster-whisper's
  defaults (threshold 0.5) kept nothing and the statement was archived as "no speech". Lowering
  the threshold to 0.35 kept 0.86 s of its 3.9 s and Whisper heard "Die Behörde." in it. So VAD
  is not trusted alone: audio that is loud against its own quiet parts (`active_spans`: 20 ms
  frames 15 dB above the 10th-percentile frame and above -60 dBFS) but that VAD dropped, for 1 s
  or more, is given to the model too, and what the model writes there is kept only if it is
  `confident`. Over the 31 clips this adds 2.5 s on that clip and nothing on any other (onset
  clicks of 0.6-0.8 s in four FLEURS clips stay under the 1 s), so it costs nothing where VAD
  works.
- **Words invented.** Whisper writes subtitle credits on silence and music ("Untertitel im
  Auftrag des ZDF", "Amara.org"), loops ("Wenn-Wenn-Wenn-Wenn" on a 1 kHz tone) and doubtful
  guesses. `invented` names the reason a segment is dropped, or None. Confident speech is never
  dropped, except a credit line no mayor speaks. Where VAD heard speech, Whisper's own silence
  rule (no-speech p > 0.6 with log-probability < -1) is the only doubt applied: a stricter one
  (p 0.5, -0.7) dropped espeak-ng's "Die Muffenmarkt am Bahnhof …" (p 0.71, -0.98), real speech.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RATE = 16000
FRAME = RATE // 50  # 20 ms
RISE_DB = 15.0  # above the audio's own quiet (its 10th-percentile frame)
FLOOR_DBFS = -60.0  # never "active" below this, whatever the quiet
BRIDGE = 0.3  # active runs closer than this are one span (s)
PAD = 0.2  # around each active span (s)
MIN_MISSED = 1.0  # shorter VAD misses were onset clicks (0.6-0.8 s in 4 FLEURS clips) (s)

# Whisper's own failure threshold for a segment's gzip compression ratio (openai/whisper).
COMPRESSION_LIMIT = 2.4
# A sign-off is kept only when Whisper is sure it is no silence.
NO_SPEECH_DOUBT = 0.5
# What the model writes where only the energy, not VAD, heard something must be this sure.
CONFIDENT_LOGPROB = -0.8
CONFIDENT_NO_SPEECH = 0.5
CONFIDENT_WORD = 0.5
# Faster than anyone speaks (German read speech runs at 12-20 characters a second): a sample's
# last 0.38 s held "Die Bauarbeiten, die Bauarbeiten, sind von der Bauform mit fliegert." (180
# a second) after the real speech had ended. Twice this is dropped even when confident.
MAX_SPOKEN_CPS = 40.0
FAST_MIN_CHARS = 20  # a short word said quickly ("Danke." in 0.3 s) is no invention
# The same n-gram this many times in a row, covering at least half the words, is a loop.
LOOP_REPEATS = 4

# Credits Whisper learnt from German TV subtitles; no mayor says them.
_CREDITS = re.compile(
    r"^(untertitel(ung)?\b|.*\bamara\s*\.?\s*org\b|(©|copyright)\s|"
    r"(swr|wdr|ndr|zdf|ard|mdr|rbb|br|hr|sr)\s+\d{4}$)"
)
# Sign-offs Whisper also learnt there, which a person may really say: dropped only when doubtful.
_SIGN_OFFS = re.compile(
    r"^((vielen )?dank (f(ü|ue)rs|f(ü|ue)r das|f(ü|ue)r ihr) (zuschauen|zuh(ö|oe)ren)|"
    r"bis zum n(ä|ae)chsten mal|tsch(ü|ue)ss|abonniert? (den|unseren) kanal|musik|applaus)\W*$"
)


@dataclass(frozen=True)
class Decoded:
    """What the model says of one segment, as faster-whisper reports it."""

    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    word_probabilities: tuple[float, ...]
    seconds: float = 0.0  # how long the model says it was spoken (0: unknown)

    @property
    def word_probability(self) -> float:
        probabilities = self.word_probabilities
        return sum(probabilities) / len(probabilities) if probabilities else 0.0


def _normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w©.\s]", " ", text.lower()).split())


def _loops(words: Sequence[str]) -> bool:
    """An n-gram (n = 1..5) repeated LOOP_REPEATS times in a row over half the words or more."""
    for n in range(1, 6):
        for begin in range(len(words) - n * LOOP_REPEATS + 1):
            gram = words[begin : begin + n]
            repeats = 1
            while words[begin + repeats * n : begin + (repeats + 1) * n] == gram:
                repeats += 1
            if repeats >= LOOP_REPEATS and repeats * n * 2 >= len(words):
                return True
    return False


def confident(segment: Decoded) -> bool:
    """Sure enough to be kept where VAD heard nothing (the lost clip: -0.57, 0.12, 0.64)."""
    return (
        segment.avg_logprob >= CONFIDENT_LOGPROB
        and segment.no_speech_prob <= CONFIDENT_NO_SPEECH
        and segment.word_probability >= CONFIDENT_WORD
    )


def invented(segment: Decoded) -> str | None:
    """Why this segment looks invented rather than heard, or None to keep it."""
    text = _normalised(segment.text)
    words = re.findall(r"\w+", text)
    if not words:
        return "no words"
    if _CREDITS.match(text):
        return "a subtitle credit"
    if _SIGN_OFFS.match(text) and not (
        confident(segment) and segment.no_speech_prob < NO_SPEECH_DOUBT / 2
    ):
        return "a sign-off from subtitles, not confidently heard"
    if segment.compression_ratio > COMPRESSION_LIMIT:
        return f"compression ratio {segment.compression_ratio:.2f} > {COMPRESSION_LIMIT}"
    if _loops(words):
        return "a repeated loop"
    if segment.seconds > 0 and len(text) >= FAST_MIN_CHARS:
        rate = len(text) / segment.seconds
        if rate > 2 * MAX_SPOKEN_CPS or (rate > MAX_SPOKEN_CPS and not confident(segment)):
            return f"{rate:.0f} characters a second: faster than anyone speaks"
    return None


Span = tuple[float, float]


def active_spans(audio: npt.NDArray[np.float32]) -> list[Span]:
    """Seconds of the audio that are loud against its own quiet parts (speech, music, noise)."""
    count = len(audio) // FRAME
    if count == 0:
        return []
    frames = audio[: count * FRAME].astype(np.float64).reshape(count, FRAME)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = level > max(float(np.percentile(level, 10)) + RISE_DB, FLOOR_DBFS)
    spans: list[Span] = []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], loud.astype(np.int8), [0]))))
    for begin, end in zip(edges[::2], edges[1::2], strict=True):
        start, stop = float(begin * FRAME / RATE), float(end * FRAME / RATE)
        if spans and start - spans[-1][1] < BRIDGE:
            spans[-1] = (spans[-1][0], stop)
        else:
            spans.append((start, stop))
    total = len(audio) / RATE
    return merge((max(0.0, a - PAD), min(total, b + PAD)) for a, b in spans)


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted spans with overlapping or touching ones joined."""
    joined: list[Span] = []
    for start, end in sorted(spans):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return joined


def missed(active: Sequence[Span], kept: Sequence[Span]) -> list[Span]:
    """The parts of the active spans that no kept span covers, each at least MIN_MISSED long."""
    result: list[Span] = []
    for start, end in active:
        cursor = start
        for kept_start, kept_end in kept:
            if kept_end <= cursor or kept_start >= end:
                continue
            if kept_start > cursor:
                result.append((cursor, kept_start))
            cursor = max(cursor, kept_end)
        if cursor < end:
            result.append((cursor, end))
    return [(a, b) for a, b in result if b - a >= MIN_MISSED]


def overlap(span: Span, spans: Sequence[Span]) -> float:
    """Seconds of `span` that lie inside `spans`."""
    return sum(max(0.0, min(span[1], b) - max(span[0], a)) for a, b in spans)
