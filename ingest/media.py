"""What a media file holds: checked before anything is transcribed or stored."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from archive.errors import MediaError


@dataclass(frozen=True)
class MediaInfo:
    duration: float | None
    has_audio: bool
    has_video: bool


def probe_media(path: Path, name: str) -> MediaInfo:
    """Open the file with FFmpeg (through PyAV); `name` is how the user knows the input."""
    try:
        with av.open(str(path)) as container:
            has_audio = bool(container.streams.audio)
            has_video = bool(container.streams.video)
            duration = container.duration / 1_000_000 if container.duration else None
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as error:
        raise MediaError(f"{name} is not a media file FFmpeg can read ({error})") from error
    if not has_audio:
        raise MediaError(f"{name} has no audio track")
    return MediaInfo(duration=duration, has_audio=has_audio, has_video=has_video)
