"""The `ledger` command line: a thin Click layer over the core.

Sub-commands live in their own modules and are imported only when invoked,
so `ledger --help` and `ledger status` stay fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click

from ledger import __version__


@dataclass(frozen=True)
class Command:
    """One sub-command: where its Click command lives and its line in `ledger --help`.

    The short help is kept here, not read from the command, so that listing the commands
    imports none of their modules."""

    name: str
    module: str
    attribute: str
    short_help: str


# fmt: off
COMMAND_TABLE: tuple[Command, ...] = (
    Command("do", "ledger.cli.do_cmd", "do",
            "Run a row's selector, keep evidence, flip the row, log the attempt."),
    Command("status", "ledger.cli.status_cmd", "status",
            "Initiatives, phases and rows with their states."),
    Command("show", "ledger.cli.show_cmd", "show",
            "One row: selector, latest evidence, attempts that mention it."),
    Command("mark", "ledger.cli.mark_cmd", "mark",
            "Set a row's state by hand (same editing guarantees)."),
    Command("attempt", "ledger.cli.attempt_cmd", "attempt",
            "Add a numbered attempt to the ledger by hand."),
    Command("audit", "ledger.cli.audit_cmd", "audit",
            "Which rows really have evidence (verified, evidenced, claimed, ...)."),
    Command("profile", "ledger.cli.profile_cmd", "profile",
            "Runtime statistics and guardrails of a row's recorded runs."),
    Command("brief", "ledger.cli.brief_cmd", "brief",
            "Render a supervisor directive (input.md) for a row."),
    Command("check-input", "ledger.cli.check_input_cmd", "check_input",
            "Validate a supervisor directive (input.md)."),
    Command("selectors", "ledger.cli.selectors_cmd", "selectors",
            "The selector map of the workspace (row -> selector -> env)."),
    Command("findings", "ledger.cli.findings_cmd", "findings",
            "List docs/findings.md and flag plans citing unknown findings."),
    Command("merge-driver", "ledger.cli.merge_driver_cmd", "merge_driver",
            "Git merge driver for concurrent ledger and plan edits."),
    Command("init", "ledger.cli.init_cmd", "init",
            "Scaffold a workspace (plans/, docs/, templates) idempotently."),
    Command("new", "ledger.cli.new_cmd", "new",
            "Create an initiative's plan and its ledger item."),
    Command("html", "ledger.cli.html_cmd", "html",
            "Write a static dashboard site of the workspace."),
    Command("repair", "ledger.cli.repair_cmd", "repair",
            "Complete a run a killed `do` left half-recorded."),
    Command("next", "ledger.cli.next_cmd", "next_",
            "The next open row to work, in plan order (exit 1: none left)."),
    Command("item", "ledger.cli.item_cmd", "item",
            "Set a ledger item's Status: field (in_progress, done, blocked)."),
    Command("key", "ledger.cli.key_cmd", "key",
            "This machine's attestation key (ledger key init)."),
    Command("verify", "ledger.cli.verify_cmd", "verify",
            "Re-run done rows' selectors in clean git worktrees (reproduction)."),
)
# fmt: on

COMMANDS: dict[str, Command] = {command.name: command for command in COMMAND_TABLE}


def load_command(command: Command) -> click.Command:
    """Import the command's module (only now: lazy imports keep `--help` fast). A module
    or attribute that is missing is a broken install and raises, never hides the command."""
    loaded = getattr(importlib.import_module(command.module), command.attribute)
    if not isinstance(loaded, click.Command):
        raise TypeError(f"{command.module}.{command.attribute} is not a Click command")
    return loaded


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = COMMANDS.get(cmd_name)
        return None if command is None else load_command(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing help must not import every command module.
        rows = [(name, COMMANDS[name].short_help) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ledger")
def main() -> None:
    """Deterministic plan/ledger bookkeeping for agent-run research codebases.

    \b
    Exit codes: 0 ok/passed, 1 tests failed or a check failed (audit,
    check-input, selectors --collect, findings, merge-driver conflicts),
    2 bad input, 3 selector collected 0 tests, 4 workspace locked,
    124 timeout, 130 interrupted.
    """
