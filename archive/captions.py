"""Subtitle cues and paragraphs made from Whisper's word timings, not from its segments.

Whisper's segments are a decoding window, not a subtitle: on the real clips one ran 17 s with
231 characters, others broke mid-sentence. So captions start again from the words and follow
the usual subtitle norms (Netflix's and the BBC's guidelines agree on them):

- at most `MAX_LINES` lines of at most `MAX_LINE_CHARS` characters;
- `MIN_SECONDS` to `MAX_SECONDS` on screen;
- at most about `MAX_CPS` characters per second: nothing is shortened, a cue that speech fills
  faster is split or held longer, into the silence before the next word;
- breaks at sentence ends first, then at clauses, then before a conjunction, never after an
  article or preposition if it can be helped;
- no cue spans a pause longer than `MAX_PAUSE` seconds, and no two cues overlap.

How: the words are first joined into *units* that a line may not break (Whisper writes a word
that continues the previous one, "Weide" "-Zone", without a leading space). Pauses above
`MAX_PAUSE` cut the units into runs. Each run is cut into cues by dynamic programming over the
break positions: a cue that does not fit the lines or lasts longer than `MAX_SECONDS` is not a
candidate; the rest cost a little each, plus the weakness of the break that ends them, plus
penalties for reading speed above `MAX_CPS` and for less than `MIN_SECONDS` before the next
cue. The cheapest cut wins, which is what makes sentence-sized cues where they fit and merges a
lone "Ja." with its neighbour. A run of n words costs O(n·k) for k words per cue (k ≤ 42).

Two exceptions are documented because no cut can avoid them without shortening the text:
a single unit longer than a line stands alone on its line; and speech faster than `MAX_CPS`
that is already cut as far as the lines allow is shown until the next cue starts, which is as
long as it can be (`Cue.held_to_limit`); such a cue may then appear up to `MAX_LEAD_IN` before
its first word, never over the cue before it. A cue shorter than `MIN_SECONDS` only occurs
where the cues around it leave it no more time and the two could not share one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from archive.models import Segment, Word

MAX_LINES = 2
MAX_LINE_CHARS = 42
MIN_SECONDS = 1.0
MAX_SECONDS = 7.0
MAX_CPS = 17.0
MAX_PAUSE = 1.5
# A cue too short to read where the next one (or the media's end) follows at once may appear
# this much before its first word.
MAX_LEAD_IN = 1.0
# A new paragraph of the plain text starts after a sentence that is followed by this much
# silence, or once a paragraph holds this many characters (about five spoken sentences).
PARAGRAPH_PAUSE = 1.5
PARAGRAPH_CHARS = 500

# What a break costs, by what ends before it: the cut prefers the cheapest.
_SENTENCE, _CLAUSE, _CONJUNCTION, _PAUSED, _PLAIN, _BOUND = 0.0, 1.0, 2.0, 1.0, 4.0, 8.0
_PER_CUE = 1.5  # prefers fewer cues unless a better break is on offer
_IMBALANCE = 16  # characters of difference between two lines that weigh as a plain break
_SENTENCE_INSIDE = 2.0  # a sentence end inside a cue rather than at its end
_STRADDLE = 3.0  # a cue that ends one sentence and breaks off the start of the next
_PER_CPS_OVER = 2.0  # per character a second above MAX_CPS
_PER_SECOND_SHORT = 20.0  # per second below MIN_SECONDS
_PAUSE_BREAK = 0.5  # a silence this long is a break as good as a clause
_STEP = 0.001  # units start at least a millisecond apart, so every cue lasts

_SENTENCE_END = re.compile(r"[.!?…][\"'»«“”)\]]*$")
_CLAUSE_END = re.compile("[,;:\u2013\u2014][\"'»«“”)\\]]*$")
_ORDINAL_OR_ABBREVIATION = re.compile(
    r"^(\d+|[a-zäöü]|dr|nr|bzw|z\.b|d\.h|u\.a|ca|vgl|ggf|evtl|inkl|sog|st|str|prof|mio|mrd)\.$"
)
# fmt: off
_CONJUNCTIONS = frozenset({
    "und", "oder", "aber", "sondern", "denn", "weil", "dass", "daß", "wenn", "ob", "obwohl",
    "damit", "sodass", "während", "nachdem", "bevor", "bis", "doch", "jedoch", "wobei",
})
# Words that lean on the next one: a line or cue should not end with them.
_BOUND_WORDS = frozenset({
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines",
    "kein", "keine", "keinen", "unser", "unsere", "unseren", "unserem", "ihr", "ihre", "ihren",
    "ihrem", "sein", "seine", "seinen", "seinem", "mein", "meine", "in", "im", "an", "am", "auf",
    "aus", "bei", "mit", "nach", "seit", "von", "vom", "zu", "zum", "zur", "für", "über",
    "unter", "vor", "hinter", "neben", "zwischen", "durch", "gegen", "ohne", "um", "sehr",
})
# fmt: on


@dataclass(frozen=True)
class Cue:
    """One subtitle: its time on screen, its lines, and the words it shows (as units)."""

    start: float
    end: float
    lines: tuple[str, ...]
    words: tuple[Word, ...]
    # True when the cue is shown until the next one starts, or for MAX_SECONDS: it can be
    # held no longer, so a reading speed above MAX_CPS is the speech's, not the cut's.
    held_to_limit: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def cps(self) -> float:
        return len(self.text) / self.seconds if self.seconds > 0 else math.inf


def words_of(segments: Iterable[Segment]) -> list[Word]:
    """The transcript's words as units a line may not break, in time order.

    A word without a leading space continues the previous one and joins it. A segment without
    word timings (an old catalog, a caption file) has its words spread evenly over its time.
    Times are made monotonic, as cues need them: each unit starts no earlier than a millisecond
    after the previous one and ends no earlier than it starts."""
    units: list[Word] = []
    for segment in segments:
        for word in segment.words or _spread(segment):
            text = word.text
            if not text.strip():
                continue
            if units and not text[:1].isspace() and not _starts_segment(word, segment):
                last = units[-1]
                units[-1] = Word(
                    last.start,
                    max(last.end, word.end),
                    last.text + text.strip(),
                    min(last.probability, word.probability),
                )
                continue
            start = word.start if not units else max(word.start, units[-1].start + _STEP)
            units.append(Word(start, max(word.end, start), text.strip(), word.probability))
    return units


def _starts_segment(word: Word, segment: Segment) -> bool:
    return bool(segment.words) and word is segment.words[0]


def _spread(segment: Segment) -> tuple[Word, ...]:
    texts = segment.text.split()
    if not texts:
        return ()
    step = max(segment.end - segment.start, 0.0) / len(texts)
    return tuple(
        Word(segment.start + i * step, segment.start + (i + 1) * step, " " + text)
        for i, text in enumerate(texts)
    )


def is_sentence_end(text: str) -> bool:
    """True for "Kölner." or "gesund!", not for "3." (am 3. März) or "Dr."."""
    return bool(_SENTENCE_END.search(text)) and not _ORDINAL_OR_ABBREVIATION.match(text.lower())


def _break_cost(before: Word, after: Word) -> float:
    """How bad a break between two units is: 0 after a sentence, more inside a phrase."""
    if is_sentence_end(before.text):
        return _SENTENCE
    cost = _PLAIN
    if _CLAUSE_END.search(before.text):
        cost = _CLAUSE
    elif after.text.lower() in _CONJUNCTIONS:
        cost = _CONJUNCTION
    elif before.text.lower() in _BOUND_WORDS:
        cost = _BOUND
    if after.start - before.end >= _PAUSE_BREAK:
        cost = min(cost, _PAUSED)
    return cost


def runs(units: Sequence[Word]) -> list[list[Word]]:
    """The units cut wherever the silence between two exceeds MAX_PAUSE."""
    result: list[list[Word]] = []
    for unit in units:
        if result and unit.start - result[-1][-1].end <= MAX_PAUSE:
            result[-1].append(unit)
        else:
            result.append([unit])
    return result


def cues_of(segments: Iterable[Segment], duration: float | None = None) -> list[Cue]:
    """The transcript as subtitle cues that follow the norms above.

    `duration`, the media's length if known, bounds how long the last cue may be held."""
    every = runs(words_of(segments))
    cues: list[Cue] = []
    for index, run in enumerate(every):
        after = every[index + 1][0].start if index + 1 < len(every) else duration
        if after is not None:
            after = max(after, run[-1].end)
        cues.extend(_cut(run, after))
    return _led_in(cues)


def _led_in(cues: list[Cue]) -> list[Cue]:
    """Cues that could not be held long enough (the next cue, or the media's end, came too
    soon) start up to MAX_LEAD_IN earlier instead, never before the previous cue ends: a
    last cue of 0.01 s at the very end of a sample (Whisper timed its words there) became
    readable this way."""
    led: list[Cue] = []
    for cue in cues:
        if cue.held_to_limit:
            needed = max(MIN_SECONDS, len(cue.text) / MAX_CPS)
            earliest = max(led[-1].end if led else 0.0, cue.start - MAX_LEAD_IN)
            start = max(earliest, min(cue.start, cue.end - needed))
            held = cue.end - start < needed - 1e-9
            cue = replace(cue, start=start, held_to_limit=held)
        led.append(cue)
    return led


def _cut(run: list[Word], after: float | None) -> list[Cue]:
    """The cheapest cut of one run into cues; `after` is when the next run starts, if any."""
    count = len(run)
    widths = [0]
    for unit in run:
        widths.append(widths[-1] + len(unit.text))
    sentence_ends = [0]
    for unit in run:
        sentence_ends.append(sentence_ends[-1] + is_sentence_end(unit.text))
    # breaks[b]: the cost of a break before unit b (the end of the run costs nothing).
    breaks = [_SENTENCE] + [_break_cost(run[b - 1], run[b]) for b in range(1, count)] + [_SENTENCE]

    def width(i: int, j: int) -> int:
        return widths[j] - widths[i] + (j - i - 1)

    # last_line[j]: the first unit of the longest last line ending before unit j.
    last_line = [0] * (count + 1)
    first = 0
    for j in range(1, count + 1):
        while width(first, j) > MAX_LINE_CHARS and first < j - 1:
            first += 1
        last_line[j] = first

    def fits(i: int, j: int) -> bool:
        if j - i == 1 or width(i, j) <= MAX_LINE_CHARS:
            return True
        split = max(last_line[j], i + 1)
        return width(split, j) <= MAX_LINE_CHARS and width(i, split) <= MAX_LINE_CHARS

    def line_cost(cut: int) -> float:
        """A line break costs half a cue break (both lines are read at once), except after an
        article or preposition: that parts words that belong together wherever it happens."""
        return breaks[cut] if breaks[cut] >= _BOUND else breaks[cut] / 2

    def layout(i: int, j: int) -> tuple[float, int]:
        """The cost and place of the line break for units i..j (j: no break, one line).

        One unit is always one line, however long: the documented exception. Two lines break
        where the phrase allows and the lines are balanced (16 characters of difference weigh
        as much as a cue break at a clause)."""
        if j - i == 1 or width(i, j) <= MAX_LINE_CHARS:
            return 0.0, j
        best = (math.inf, j)
        for cut in range(max(last_line[j], i + 1), j):
            top, bottom = width(i, cut), width(cut, j)
            if top > MAX_LINE_CHARS:
                break
            score = line_cost(cut) + abs(top - bottom) / _IMBALANCE
            if score < best[0]:
                best = (score, cut)
        return best

    def within(i: int, j: int) -> bool:
        return run[j - 1].end - run[i].start <= MAX_SECONDS

    def limit(i: int, j: int) -> float:
        """The latest the cue of units i..j may end: the next cue's start or MAX_SECONDS."""
        bound = run[j].start if j < count else (after if after is not None else math.inf)
        return min(bound, run[i].start + MAX_SECONDS)

    def cost(i: int, j: int) -> float:
        start = run[i].start
        room = limit(i, j) - start
        needed = max(MIN_SECONDS, width(i, j) / MAX_CPS)
        shown = min(room, max(needed, run[j - 1].end - start))
        penalty = _PER_CUE + breaks[j] + layout(i, j)[0]
        inside = sentence_ends[j - 1] - sentence_ends[i]
        penalty += _SENTENCE_INSIDE * inside
        if inside and j < count and not is_sentence_end(run[j - 1].text):
            penalty += _STRADDLE
        if shown < MIN_SECONDS:
            penalty += _PER_SECOND_SHORT * (MIN_SECONDS - shown)
        if width(i, j) > MAX_CPS * shown:
            penalty += _PER_CPS_OVER * (width(i, j) / max(shown, _STEP) - MAX_CPS)
        return penalty

    best = [0.0] + [math.inf] * count
    choice = [0] * (count + 1)
    for j in range(1, count + 1):
        i = j - 1
        while i >= 0 and fits(i, j) and (i == j - 1 or within(i, j)):
            total = best[i] + cost(i, j)
            if total < best[j]:
                best[j], choice[j] = total, i
            i -= 1
    bounds: list[tuple[int, int]] = []
    j = count
    while j > 0:
        bounds.append((choice[j], j))
        j = choice[j]
    return [_cue(run[i:j], layout(i, j)[1] - i, limit(i, j)) for i, j in reversed(bounds)]


def _cue(units: list[Word], cut: int, limit: float) -> Cue:
    """The cue of these units with a line break before unit `cut`, held as long as it needs
    (MIN_SECONDS, and MAX_CPS) but no longer than `limit`."""
    texts = [unit.text for unit in units]
    lines = tuple(" ".join(part) for part in (texts[:cut], texts[cut:]) if part)
    start = units[0].start
    needed = max(MIN_SECONDS, len(" ".join(lines)) / MAX_CPS)
    wanted = max(start + needed, units[-1].end)
    end = min(wanted, limit)
    return Cue(start, end, lines, tuple(units), held_to_limit=end >= limit and wanted > limit)


def paragraphs_of(segments: Iterable[Segment]) -> list[str]:
    """The transcript as paragraphs: a new one after a sentence followed by a pause of
    PARAGRAPH_PAUSE, or once a paragraph has reached PARAGRAPH_CHARS at a sentence end."""
    units = words_of(segments)
    paragraphs: list[list[str]] = [[]]
    for index, unit in enumerate(units):
        paragraphs[-1].append(unit.text)
        if index + 1 == len(units) or not is_sentence_end(unit.text):
            continue
        pause = units[index + 1].start - unit.end
        length = sum(len(t) + 1 for t in paragraphs[-1])
        if pause >= PARAGRAPH_PAUSE or length >= PARAGRAPH_CHARS:
            paragraphs.append([])
    return [" ".join(p) for p in paragraphs if p]
