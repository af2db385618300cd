"""The `stadtstimme` commands of worker (issue 10); they add themselves to ingest.cli.app."""

from __future__ import annotations
