"""Jinja2 templates (autoescaped) and the filters the pages use."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from archive.export import timecode

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


templates.env.filters["timecode"] = timecode
