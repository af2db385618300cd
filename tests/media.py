"""Test media made here with espeak-ng and ffmpeg: German speech placed after known silences.

Every clip records where its sentences start, so tests can check Whisper's word timestamps.
"""

from __future__ import annotations

import subprocess
import wave
from dataclasses import dataclass, field
from pathlib import Path

RATE = 22050
# Offset of the reliable word inside its sentence ("Die Maskenpflicht …": after "Die").
WORD_OFFSET = 0.3
# Sentences whose reliable word (from ../shared/MEASUREMENTS.md, checked against the base model)
# is the first or second word, so that the fixture knows where it is spoken.
SPEECH_A = [
    ("Maskenpflicht", "Die Maskenpflicht gilt ab Montag in der Innenstadt."),
    ("Wochenmarkt", "Der Wochenmarkt am Bahnhof öffnet wieder für alle."),
]
SPEECH_B = [
    ("Gastronomie", "Die Gastronomie in der Innenstadt bekommt Hilfe."),
    ("Pflegekräfte", "Die Pflegekräfte in den Krankenhäusern arbeiten viel."),
]
SPEECH_C = [
    ("Bahnhof", "Am Bahnhof gilt weiter die Maskenpflicht."),
    ("Gastronomie", "Die Gastronomie bekommt einen Gutschein."),
]
SPEECH_LONG = [
    ("", "Liebe Bürgerinnen und Bürger, heute spreche ich über unsere Stadt."),
    ("", "Die Maskenpflicht in der Innenstadt endet am Montag."),
    ("", "Der Wochenmarkt am Bahnhof öffnet wieder für alle."),
    ("", "Die Gastronomie bekommt von der Stadt einen Gutschein."),
    ("", "In den Krankenhäusern danken wir den Pflegekräften."),
    ("", "Die Zahl der Neuinfektionen ist in dieser Woche gesunken."),
    ("", "Bleiben Sie gesund und passen Sie aufeinander auf."),
]


@dataclass
class Clip:
    path: Path
    duration: float
    # reliable word (as Whisper writes it) -> second at which the fixture placed it
    placed: dict[str, float] = field(default_factory=dict)


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


def speak(text: str, target: Path) -> float:
    _run("espeak-ng", "-v", "de", "-w", str(target), text)
    with wave.open(str(target)) as handle:
        return float(handle.getnframes() / handle.getframerate())


def _silence(seconds: float) -> bytes:
    return b"\0\0" * int(seconds * RATE)


def build_speech(
    sentences: list[tuple[str, str]], work: Path, name: str, lead: float = 3.0, gap: float = 2.0
) -> Clip:
    """A WAV of silence, sentence, silence, sentence …; each sentence is (keyword, text)."""
    frames = bytearray(_silence(lead))
    placed: dict[str, float] = {}
    for index, (keyword, text) in enumerate(sentences):
        part = work / f"{name}-{index}.wav"
        speak(text, part)
        with wave.open(str(part)) as handle:
            assert handle.getframerate() == RATE and handle.getnchannels() == 1
            if keyword:
                placed[keyword] = len(frames) / 2 / RATE + WORD_OFFSET
            frames += handle.readframes(handle.getnframes())
        frames += _silence(gap)
    target = work / f"{name}.wav"
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return Clip(target, len(frames) / 2 / RATE, placed)


def encode(
    clip: Clip, target: Path, video: bool, *, faststart: bool = False, video_bitrate: str = ""
) -> Clip:
    """Encode a WAV clip into the container its suffix names, with a black video if asked.

    `faststart` puts an MP4's index before its data (as streaming sites serve them), so that
    the first part of the file plays alone; a `video_bitrate` ("2M") makes the video a noise
    pattern at that rate, for a file of a known, larger size."""
    args = ["ffmpeg", "-loglevel", "error", "-y"]
    if video:
        source = "color=c=black:s=160x120:r=10"
        if video_bitrate:
            source = "testsrc2=s=320x240:r=25,noise=alls=100:allf=t"
        args += ["-f", "lavfi", "-i", source]
    args += ["-i", str(clip.path)]
    if video:
        args += ["-shortest", "-pix_fmt", "yuv420p"]
        args += ["-c:v", "libvpx"] if target.suffix == ".webm" else ["-c:v", "libx264"]
        if video_bitrate:
            args += ["-b:v", video_bitrate, "-maxrate", video_bitrate, "-bufsize", video_bitrate]
    audio = {".webm": "libopus", ".ogg": "libopus"}.get(target.suffix, "aac")
    args += ["-c:a", audio, "-ar", "48000" if audio == "libopus" else "22050"]
    if faststart:
        args += ["-movflags", "+faststart"]
    _run(*args, str(target))
    return Clip(target, clip.duration, dict(clip.placed))


def truncate(source: Path, target: Path, share: float) -> Path:
    """The first `share` of the source's bytes, as a download or copy that stopped there."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * share)])
    return target


def silent_video(target: Path, seconds: float = 8.0) -> Path:
    _run(
        "ffmpeg", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"color=c=black:s=160x120:r=10:d={seconds}",
        "-f", "lavfi", "-i", f"anullsrc=r=22050:cl=mono:d={seconds}",
        "-shortest", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", str(target),
    )  # fmt: skip
    return target


def video_without_audio(target: Path, seconds: float = 4.0) -> Path:
    _run(
        "ffmpeg", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"color=c=black:s=160x120:r=10:d={seconds}",
        "-pix_fmt", "yuv420p", "-c:v", "libx264", str(target),
    )  # fmt: skip
    return target


def framed_video(
    clip: Clip, target: Path, size: str = "608x1080", black: float = 2.0, codec: str = "libx264"
) -> Clip:
    """The clip's speech under a video of `size` (a phone's portrait 1080p by default) that is
    black for its first `black` seconds, then a moving test pattern: a poster taken from the
    first frame is black, one taken as the project wants it is not."""
    pattern = f"testsrc2=s={size}:r=10"
    _run(
        "ffmpeg", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"color=c=black:s={size}:r=10:d={black}",
        "-f", "lavfi", "-i", pattern, "-i", str(clip.path),
        "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]",
        "-map", "[v]", "-map", "2:a", "-shortest", "-pix_fmt", "yuv420p",
        "-c:v", codec, *(["-preset", "ultrafast"] if codec == "libx264" else []),
        "-c:a", "aac" if target.suffix != ".webm" else "libopus", str(target),
    )  # fmt: skip
    return Clip(target, clip.duration, dict(clip.placed))
