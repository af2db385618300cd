"""What a media file holds: checked before anything is transcribed or stored.

A file may be cut short (a download or copy that stopped, a damaged upload) while its header still
declares the whole length: an MP4 with its index at the front opens and plays its first part as if
nothing were missing. So the audio stream is demuxed to its end (packets, not decoded: cheap) and
the length it really holds is compared with the length the container declares.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av

from archive.errors import MediaError
from archive.models import MediaKind

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


# --- what the archive keeps: the video (browser-playable, at most max_height lines), only the
# audio, or (for transcription only) the audio too. FFmpeg converts what must be converted and
# copies every stream it can, so that a file that is already fit is kept byte for byte.

Keep = Literal["video", "audio", "none"]
# What every current browser plays in <video>: container -> (video codecs, audio codecs).
PLAYABLE = {
    ".mp4": (frozenset({"h264"}), frozenset({"aac", "mp3"})),
    ".webm": (frozenset({"vp8", "vp9", "av1"}), frozenset({"opus", "vorbis"})),
}
_WEBM_VIDEO = PLAYABLE[".webm"][0]
# An audio stream copied out of a video file: the container that takes it unchanged.
AUDIO_CONTAINERS = {"aac": ".m4a", "mp3": ".mp3", "opus": ".ogg", "vorbis": ".ogg", "flac": ".flac"}
X264 = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p")
POSTER_WIDTH = 480
POSTER_FRAMES = 100  # the thumbnail filter picks the most typical frame of this many


@dataclass(frozen=True)
class Streams:
    """The first video stream (cover art is not video) and the first audio stream of a file."""

    suffix: str
    video: str | None = None  # FFmpeg's codec name: "h264", "vp9", …
    height: int | None = None
    audio: str | None = None


@dataclass(frozen=True)
class Plan:
    """What to keep of a file: its kind, and FFmpeg's output options (none: keep it as it is)."""

    kind: MediaKind
    suffix: str
    args: tuple[str, ...] = ()


def streams(path: Path) -> Streams | None:
    """The file's streams; None where FFmpeg cannot read it (probe_media then says why)."""
    try:
        with av.open(str(path)) as container:
            video = next(
                (
                    s
                    for s in container.streams.video
                    if not s.disposition & av.stream.Disposition.attached_pic
                ),
                None,
            )
            audio = container.streams.audio[0] if container.streams.audio else None
            return Streams(
                suffix=path.suffix.lower(),
                video=video.codec_context.name if video is not None else None,
                height=video.codec_context.height or None if video is not None else None,
                audio=audio.codec_context.name if audio is not None else None,
            )
    except (av.error.FFmpegError, OSError, UnicodeDecodeError):
        return None


def plan(found: Streams | None, keep: Keep, max_height: int) -> Plan:
    """How to keep a file. Video (keep="video") stays as it is where a browser plays it and it
    is at most max_height lines; else it is remuxed (streams copied) or, only where it must be,
    transcoded: to H.264/AAC in MP4, or into WebM where VP8/VP9/AV1 can be copied. Otherwise
    the audio stream is copied out of a video file (re-encoded to AAC only where no container
    we serve takes it). A file without video stays as it is."""
    if found is None or found.video is None or found.audio is None:
        # no video; or no audio, which probe_media refuses, naming the input
        return Plan("audio", found.suffix if found else "")
    if keep != "video":
        suffix = AUDIO_CONTAINERS.get(found.audio)
        copy: tuple[str, ...] = ("-c:a", "copy") if suffix else ("-c:a", "aac", "-b:a", "128k")
        faststart = ("-movflags", "+faststart") if (suffix or ".m4a") == ".m4a" else ()
        return Plan("audio", suffix or ".m4a", ("-map", "0:a:0", "-vn", *copy, *faststart))
    tall = found.height is not None and found.height > max_height
    videos, audios = PLAYABLE.get(found.suffix, (frozenset(), frozenset()))
    if not tall and found.video in videos and found.audio in audios:
        return Plan("video", found.suffix)
    streams = ("-map", "0:V:0", "-map", "0:a:0", "-sn", "-dn")
    if not tall and found.video in _WEBM_VIDEO:
        opus = ("copy",) if found.audio in PLAYABLE[".webm"][1] else ("libopus", "-b:a", "96k")
        return Plan("video", ".webm", (*streams, "-c:v", "copy", "-c:a", *opus))
    if found.video == "h264" and not tall:
        video: tuple[str, ...] = ("-c:v", "copy")
    else:
        video = (*X264, *(("-vf", f"scale=-2:{max_height}") if tall else ()))
    audio = ("copy",) if found.audio in PLAYABLE[".mp4"][1] else ("aac", "-b:a", "128k")
    return Plan("video", ".mp4", (*streams, *video, "-c:a", *audio, "-movflags", "+faststart"))


def _ffmpeg(*args: str) -> subprocess.CompletedProcess[str]:
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]
    return subprocess.run(command, capture_output=True, text=True, errors="replace", check=False)


def _failed(done: subprocess.CompletedProcess[str], target: Path) -> str:
    """FFmpeg's last line of error; OSError(ENOSPC) for a full disk, which callers report."""
    if "No space left on device" in done.stderr:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"ffmpeg exited with {done.returncode}"


def convert(source: Path, target: Path, how: Plan, name: str) -> None:
    """Write what `how` keeps of `source` to `target` (removed again on failure). MediaError
    naming the input when FFmpeg cannot; OSError(ENOSPC) when the disk fills."""
    try:
        done = _ffmpeg("-i", str(source), *how.args, str(target))
        if done.returncode != 0:
            reason = _failed(done, target)
            raise MediaError(f"{name}: FFmpeg cannot convert it ({reason})")
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def make_poster(video: Path, target: Path, duration: float | None) -> None:
    """A still of the video as JPEG, at most 480 px wide, written to a temporary name and
    renamed into `target`: never half a file under the final name. Not the first frame (often
    black, or a fade): from a tenth into the video (at most 10 s), the most typical of the next
    100 frames (FFmpeg's thumbnail filter, which compares their histograms). Scaled before it is
    picked, so that the frames held are small. MediaError when FFmpeg makes none."""
    start = min(duration / 10, 10.0) if duration else 0.0
    partial = target.with_name(f".{target.name}.part")
    scale = f"scale='min({POSTER_WIDTH},iw)':-2,thumbnail={POSTER_FRAMES}"
    reason = "no frame"
    try:
        for seek in dict.fromkeys((start, 0.0)):  # from the start where the seek found no frame
            done = _ffmpeg(
                *("-ss", f"{seek:.2f}", "-i", str(video), "-map", "0:V:0", "-vf", scale),
                *("-frames:v", "1", "-q:v", "4", "-f", "image2", "-update", "1", str(partial)),
            )
            if done.returncode != 0:
                reason = _failed(done, partial)
            elif partial.is_file() and partial.stat().st_size > 0:
                os.replace(partial, target)
                return
        raise MediaError(f"{video}: FFmpeg made no poster ({reason})")
    finally:
        partial.unlink(missing_ok=True)
