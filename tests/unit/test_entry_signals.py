"""Where ledger's signal handler raises KeyboardInterrupt and where it stops at once.

A KeyboardInterrupt raised in the import machinery was swallowed (importlib's weakref callback
`cb`: the command ran on to exit 0), and one raised in click's own code became `Aborted!`,
exit 1; only inside a command's `reports_errors` does it become `ledger: interrupted`, 130."""

from __future__ import annotations

import signal
import sys

import pytest

from ledger import entry
from ledger.cli.common import reports_errors


class StoppedAtOnce(Exception):
    pass


@pytest.fixture
def stop(monkeypatch):
    def exit_interrupted():
        raise StoppedAtOnce

    monkeypatch.setattr(entry, "_exit_interrupted", exit_interrupted)


def test_outside_a_command_the_handler_stops_at_once(stop):
    with pytest.raises(StoppedAtOnce):
        entry._as_interrupt(signal.SIGINT, sys._getframe())


def test_inside_a_command_it_raises_keyboard_interrupt_which_the_command_turns_into_130(stop, capsys):
    @reports_errors
    def command():
        entry._as_interrupt(signal.SIGINT, sys._getframe())

    with pytest.raises(SystemExit) as exit_info:
        command()
    assert exit_info.value.code == 130
    assert capsys.readouterr().err == "ledger: interrupted\n"


def test_inside_an_import_within_a_command_it_stops_at_once(stop, tmp_path, monkeypatch):
    (tmp_path / "module_signalled_while_importing.py").write_text(
        "import signal, sys\nfrom ledger import entry\nentry._as_interrupt(signal.SIGINT, sys._getframe())\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "module_signalled_while_importing", raising=False)

    @reports_errors
    def command():
        import module_signalled_while_importing  # noqa: F401

    with pytest.raises(StoppedAtOnce):
        command()
