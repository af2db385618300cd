"""What a media file holds: checked before anything is transcribed or stored.

A file may be cut short (a download or copy that stopped, a damaged upload) while its header still
declares the whole length: an MP4 with its index at the front opens and plays its first part as if
nothing were missing. So the audio stream is demuxed to its end (packets, not decoded: cheap) and
the length it really holds is compared with the length the container declares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from archive.errors import MediaError

# A file that holds less than this share of the audio it declares is refused (unless accepted).
COMPLETE = 0.95


@dataclass(frozen=True)
class MediaInfo:
    duration: float | None
    has_audio: bool
    has_video: bool
    # The seconds of audio the file holds, and those it declares (None where it declares none).
    decoded: float | None = None
    declared: float | None = None

    @property
    def partial(self) -> bool:
        if not self.declared or self.decoded is None:
            return False
        return self.decoded < COMPLETE * self.declared


def probe_media(path: Path, name: str, *, accept_partial: bool = False) -> MediaInfo:
    """Open the file with FFmpeg (through PyAV); `name` is how the user knows the input.

    MediaError when it is no media, has no audio, or holds less than 95 % of the audio it
    declares (unless `accept_partial`: then `duration` is the length it holds)."""
    try:
        with av.open(str(path)) as container:
            has_audio = bool(container.streams.audio)
            has_video = bool(container.streams.video)
            duration = container.duration / 1_000_000 if container.duration else None
            declared = decoded = None
            if has_audio:
                audio = container.streams.audio[0]
                declared = _declared(container, audio)
                decoded = _held(container, audio)
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as error:
        raise MediaError(f"{name} is not a media file FFmpeg can read ({error})") from error
    if not has_audio:
        raise MediaError(f"{name} has no audio track")
    info = MediaInfo(duration, has_audio, has_video, decoded, declared)
    if info.partial:
        assert decoded is not None and declared is not None
        if not accept_partial:
            raise MediaError(
                f"{name} is cut short or damaged: its audio decodes {decoded:.1f} s of the "
                f"{declared:.1f} s it declares; --accept-partial archives what there is"
            )
        info = MediaInfo(decoded, has_audio, has_video, decoded, declared)
    return info


def _declared(container: Any, audio: Any) -> float | None:
    """The audio stream's declared length: its own, else a Matroska track's DURATION tag, else
    the container's."""
    if audio.duration and audio.time_base:
        return float(audio.duration * audio.time_base)
    tag = (audio.metadata or {}).get("DURATION", "")
    found = re.fullmatch(r"(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", tag.strip())
    if found:
        hours, minutes, seconds = found.groups()
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return container.duration / 1_000_000 if container.duration else None


def _held(container: Any, audio: Any) -> float | None:
    """The seconds of audio the file holds: from the stream's start to the end of its last
    packet, demuxed (reading stops where the data stops or turns to garbage); None where its
    packets carry no times."""
    base = audio.time_base or Fraction(1, 1_000_000)
    start = max(audio.start_time or 0, 0)
    end = None
    packets = 0
    try:
        for packet in container.demux(audio):
            if packet.size == 0:
                continue
            packets += 1
            if packet.pts is not None:
                stop = packet.pts + (packet.duration or 0)
                end = stop if end is None or stop > end else end
    except av.error.FFmpegError:
        pass  # what was read before the damage is what the file holds
    if end is None:
        return 0.0 if packets == 0 else None
    return max(float((end - start) * base), 0.0)
