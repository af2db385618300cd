"""The `stadtstimme` command's options as click sees them: every one explained in --help, the
choice options checked by their type, --version. In process: no archive, no model."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from archive.models import Status
from archive.search import SORTS
from ingest.cli import app

# Typer vendors its own click: the command tree is walked through the attributes they share.
COMMAND: Any = typer.main.get_command(app)
CHOICES = {
    ("search", "--sort"): list(SORTS),
    ("export", "--format"): ["vtt", "srt", "txt", "json"],
    ("list", "--status"): [*Status, "all"],
}


def _commands() -> list[tuple[str, Any]]:
    """Every command, and every command of a group (`source add`), by name."""
    found = [("stadtstimme", COMMAND)]
    for name, command in sorted(COMMAND.commands.items()):
        found.append((name, command))
        for sub, subcommand in sorted(getattr(command, "commands", {}).items()):
            found.append((f"{name} {sub}", subcommand))
    return found


def test_every_command_option_and_argument_has_help() -> None:
    missing = [
        f"{name} {param.name}"
        for name, command in _commands()
        for param in command.params
        if not (getattr(param, "help", None) or "").strip()
    ]
    assert [name for name, _ in _commands()] == [
        "stadtstimme",
        "correct",
        "delete",
        "edit",
        "export",
        "hide",
        "ingest",
        "jobs",
        "list",
        "queue",
        "readmit",
        "reindex",
        "retranscribe",
        "retry",
        "search",
        "serve",
        "source",
        "source add",
        "source list",
        "source pause",
        "source remove",
        "source resume",
        "status",
        "unhide",
        "update",
        "watch",
        "worker",
    ]
    assert missing == []
    assert all((command.help or "").strip() for _, command in _commands())


@pytest.mark.parametrize(("command", "option"), sorted(CHOICES))
def test_choice_options_list_their_choices_in_help(command: str, option: str) -> None:
    shown = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "300"})
    assert shown.exit_code == 0
    (line,) = [line for line in shown.output.splitlines() if f" {option} " in line]
    assert "|".join(CHOICES[command, option]) in line


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["search", "Maske", "--sort", "best"], "--sort"),
        (["export", "abc", "--format", "pdf"], "--format"),
        (["list", "--status", "done"], "--status"),
    ],
)
def test_a_bad_choice_is_refused_by_the_option_type(args: list[str], option: str) -> None:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 2  # a usage error from the option's type, before the command runs
    assert f"Invalid value for '{option}'" in result.output
    assert "is not one of" in result.output
    assert "Traceback" not in result.output


def test_version_is_the_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"stadtstimme {version('stadtstimme')}"
