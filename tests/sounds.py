"""Real non-speech made with ffmpeg: silence, noise, tones and a synthetic music bed.

Whisper invents words on exactly such audio (subtitle credits on silence, "Musik" on music), so
the tests and bench/transcribe.py feed it these. Each sound is deterministic (fixed seeds), so a
failure can be replayed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

RATE = 16000

# A synthetic music bed: a chord that changes every 2 s (A minor, F, C, G roots), a kick drum
# every half second and hi-hat noise on the off-beats. Loud and rhythmic, like an intro jingle.
_CHORDS = (
    "(220*(lt(mod(t,8),2)+0.8909*between(mod(t,8),2,4)"
    "+1.3348*between(mod(t,8),4,6)+1.1892*gte(mod(t,8),6)))"
)
_MUSIC = (
    f"0.12*sin(2*PI*{_CHORDS}*t)+0.09*sin(2*PI*{_CHORDS}*1.1892*t)"
    f"+0.08*sin(2*PI*{_CHORDS}*1.4983*t)+0.05*sin(2*PI*{_CHORDS}*0.5*t)"
    "+0.35*sin(2*PI*55*t)*exp(-18*mod(t,0.5))"
)
_HIHAT = (
    "anoisesrc=color=white:amplitude=0.25:seed=7,highpass=f=7000,"
    "volume='lt(mod(t-0.25,0.5),0.05)':eval=frame"
)

# name -> ffmpeg lavfi graph producing mono audio (duration added by `make`)
SOUNDS: dict[str, str] = {
    "silence": "anullsrc=r=16000:cl=mono",
    "white-noise": "anoisesrc=color=white:amplitude=0.2:seed=1",
    "pink-noise": "anoisesrc=color=pink:amplitude=0.3:seed=2",
    "brown-noise": "anoisesrc=color=brown:amplitude=0.5:seed=3",
    "hum": "sine=frequency=50:sample_rate=16000,volume=0.3",
    "tone": "sine=frequency=1000:sample_rate=16000,volume=0.3",
    "beeps": "sine=frequency=880:sample_rate=16000,volume='0.4*lt(mod(t,1),0.3)':eval=frame",
    "music": f"aevalsrc='{_MUSIC}':s=16000[m];{_HIHAT}[h];[m][h]amix=inputs=2:normalize=0",
}


def make(name: str, seconds: float, target: Path) -> Path:
    """Write `seconds` of the named sound as a 16 kHz mono WAV."""
    graph = (
        f"{SOUNDS[name]},atrim=duration={seconds},aformat=sample_rates={RATE}:channel_layouts=mono"
    )
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-filter_complex", graph, str(target)],
        check=True,
        capture_output=True,
    )
    return target


def join(parts: list[Path], target: Path) -> Path:
    """Concatenate audio files (any format ffmpeg reads) into one 16 kHz mono WAV."""
    inputs = [arg for part in parts for arg in ("-i", str(part))]
    streams = "".join(
        f"[{index}:a]aresample={RATE},aformat=channel_layouts=mono[p{index}];"
        for index in range(len(parts))
    )
    labels = "".join(f"[p{index}]" for index in range(len(parts)))
    graph = f"{streams}{labels}concat=n={len(parts)}:v=0:a=1"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", *inputs, "-filter_complex", graph, str(target)],
        check=True,
        capture_output=True,
    )
    return target
