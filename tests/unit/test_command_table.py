"""The command table in ledger/cli/__init__.py is the one list of sub-commands: every entry
imports to a Click command of its own name, every command module is in it, and a module
that is missing is an error instead of a command silently left out of `ledger --help`."""

from __future__ import annotations

import pkgutil

import click
import pytest
from click.testing import CliRunner

import ledger.cli
from ledger.cli import COMMAND_TABLE, COMMANDS, Command, load_command, main


@pytest.mark.parametrize("command", COMMAND_TABLE, ids=lambda c: c.name)
def test_every_entry_imports_to_a_click_command_of_its_name(command):
    loaded = load_command(command)
    assert isinstance(loaded, click.Command)
    assert loaded.name == command.name
    assert command.short_help.strip()


def test_names_are_unique_and_every_command_module_is_in_the_table():
    assert len(COMMANDS) == len(COMMAND_TABLE)
    modules = {
        f"ledger.cli.{info.name}" for info in pkgutil.iter_modules(ledger.cli.__path__) if info.name.endswith("_cmd")
    }
    assert modules == {command.module for command in COMMAND_TABLE}


def test_help_lists_every_command_with_its_short_help():
    result = CliRunner().invoke(main, ["--help"], prog_name="ledger")
    assert result.exit_code == 0
    for command in COMMAND_TABLE:
        assert command.name in result.output
        # Click may wrap a long line: compare the first words only.
        assert " ".join(command.short_help.split()[:4]) in " ".join(result.output.split())


@pytest.fixture
def missing_module(monkeypatch):
    broken = Command("ghost", "ledger.cli.ghost_cmd_that_does_not_exist", "ghost", "A command whose module is gone.")
    monkeypatch.setitem(COMMANDS, broken.name, broken)
    return broken


def test_a_missing_module_is_still_listed(missing_module):
    result = CliRunner().invoke(main, ["--help"], prog_name="ledger")
    assert result.exit_code == 0
    assert "ghost" in result.output


def test_invoking_a_command_whose_module_is_missing_is_an_error(missing_module):
    result = CliRunner().invoke(main, ["ghost"], prog_name="ledger")
    assert isinstance(result.exception, ModuleNotFoundError)
    assert "ghost_cmd_that_does_not_exist" in str(result.exception)


def test_an_attribute_that_is_not_a_click_command_is_an_error():
    with pytest.raises(TypeError, match="not a Click command"):
        load_command(Command("version", "ledger", "__version__", "Not a command."))
