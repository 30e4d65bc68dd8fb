"""The `ledger` command line: a thin Click layer over the core.

Sub-commands live in their own modules and are imported only when invoked,
so `ledger --help` and `ledger status` stay fast.
"""

from __future__ import annotations

import importlib

import click

from ledger import __version__

COMMANDS = {
    "do": ("ledger.cli.do_cmd", "do"),
    "status": ("ledger.cli.status_cmd", "status"),
    "show": ("ledger.cli.show_cmd", "show"),
    "mark": ("ledger.cli.mark_cmd", "mark"),
    "attempt": ("ledger.cli.attempt_cmd", "attempt"),
}

SHORT_HELP = {
    "do": "Run a row's selector, keep evidence, flip the row, log the attempt.",
    "status": "Initiatives, phases and rows with their states.",
    "show": "One row: selector, latest evidence, attempts that mention it.",
    "mark": "Set a row's state by hand (same editing guarantees).",
    "attempt": "Add a numbered attempt to the ledger by hand.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[name]
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx, formatter):
        # Listing help must not import every command module.
        rows = [(name, SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ledger")
def main() -> None:
    """Deterministic plan/ledger bookkeeping for agent-run research codebases.

    \b
    Exit codes: 0 ok/passed, 1 tests failed (or audit found problems),
    2 bad input, 3 selector collected 0 tests, 4 workspace locked,
    124 timeout, 130 interrupted.
    """
