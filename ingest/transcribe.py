"""Speech to text with faster-whisper: the only module that imports it.

The model is loaded once per process and reused. Segments come from faster-whisper's lazy
generator, consumed here so that progress can be reported as audio seconds done.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archive.config import Settings
from archive.errors import MediaError, TranscriptionError
from archive.models import Segment, Transcript, Word
from ingest.model import resolve_model

Progress = Callable[[float, float], None]

_models: dict[tuple[str, str, int], Any] = {}
_models_lock = threading.Lock()


def load_model(settings: Settings) -> Any:
    """The WhisperModel for these settings, loaded at most once per process."""
    from faster_whisper import WhisperModel

    location = resolve_model(settings.model, settings.models_dir)
    threads = settings.cpu_threads or min(4, os.cpu_count() or 1)
    key = (location, settings.compute_type, threads)
    with _models_lock:
        if key not in _models:
            try:
                _models[key] = WhisperModel(
                    location, device="cpu", compute_type=settings.compute_type, cpu_threads=threads
                )
            except (OSError, RuntimeError, ValueError) as error:
                raise TranscriptionError(
                    f"cannot load Whisper model {settings.model!r}: {error}"
                ) from error
        return _models[key]


def transcribe(
    model: Any,
    media: Path,
    *,
    language: str | None,
    prompt: str | None = None,
    progress: Progress | None = None,
) -> Transcript:
    """Transcribe a media file with word timestamps and voice activity detection.

    `language` None means: let Whisper detect it. A file without speech gives no segments.
    """
    try:
        generator, info = model.transcribe(
            str(media),
            language=language,
            initial_prompt=prompt,
            vad_filter=True,
            word_timestamps=True,
            beam_size=5,
        )
        segments: list[Segment] = []
        for raw in generator:
            words = tuple(
                Word(float(w.start), float(w.end), w.word, float(w.probability))
                for w in (raw.words or ())
            )
            segments.append(Segment(float(raw.start), float(raw.end), raw.text, words))
            if progress:
                progress(min(float(raw.end), info.duration), info.duration)
    except (IndexError, ValueError) as error:
        raise MediaError(f"{media.name}: cannot decode audio ({error})") from error
    if progress:
        progress(info.duration, info.duration)
    return Transcript(
        language=info.language, duration=float(info.duration), segments=tuple(segments)
    )
