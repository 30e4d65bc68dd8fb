"""The `ledger` command line: a thin Click layer over the core.

Sub-commands live in their own modules and are imported only when invoked,
so `ledger --help` and `ledger status` stay fast.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

from ledger import __version__

COMMANDS = {
    "do": ("ledger.cli.do_cmd", "do"),
    "status": ("ledger.cli.status_cmd", "status"),
    "show": ("ledger.cli.show_cmd", "show"),
    "mark": ("ledger.cli.mark_cmd", "mark"),
    "attempt": ("ledger.cli.attempt_cmd", "attempt"),
    "audit": ("ledger.cli.audit_cmd", "audit"),
    "profile": ("ledger.cli.profile_cmd", "profile"),
    "brief": ("ledger.cli.brief_cmd", "brief"),
    "check-input": ("ledger.cli.check_input_cmd", "check_input"),
    "selectors": ("ledger.cli.selectors_cmd", "selectors"),
    "findings": ("ledger.cli.findings_cmd", "findings"),
    "merge-driver": ("ledger.cli.merge_driver_cmd", "merge_driver"),
    "init": ("ledger.cli.init_cmd", "init"),
    "new": ("ledger.cli.new_cmd", "new"),
    "html": ("ledger.cli.html_cmd", "html"),
    "repair": ("ledger.cli.repair_cmd", "repair"),
    "next": ("ledger.cli.next_cmd", "next_"),
    "item": ("ledger.cli.item_cmd", "item"),
    "key": ("ledger.cli.key_cmd", "key"),
    "verify": ("ledger.cli.verify_cmd", "verify"),
}

SHORT_HELP = {
    "do": "Run a row's selector, keep evidence, flip the row, log the attempt.",
    "status": "Initiatives, phases and rows with their states.",
    "show": "One row: selector, latest evidence, attempts that mention it.",
    "mark": "Set a row's state by hand (same editing guarantees).",
    "attempt": "Add a numbered attempt to the ledger by hand.",
    "audit": "Which rows really have evidence (verified, evidenced, claimed, ...).",
    "profile": "Runtime statistics and guardrails of a row's recorded runs.",
    "brief": "Render a supervisor directive (input.md) for a row.",
    "check-input": "Validate a supervisor directive (input.md).",
    "selectors": "The selector map of the workspace (row -> selector -> env).",
    "findings": "List docs/findings.md and flag plans citing unknown findings.",
    "merge-driver": "Git merge driver for concurrent ledger and plan edits.",
    "init": "Scaffold a workspace (plans/, docs/, templates) idempotently.",
    "new": "Create an initiative's plan and its ledger item.",
    "html": "Write a static dashboard site of the workspace.",
    "repair": "Complete a run a killed `do` left half-recorded.",
    "next": "The next open row to work, in plan order (exit 1: none left).",
    "item": "Set a ledger item's Status: field (in_progress, done, blocked).",
    "key": "This machine's attestation key (ledger key init).",
    "verify": "Re-run done rows' selectors in clean git worktrees (reproduction).",
}


def _available(module_name: str) -> bool:
    # find_spec locates the module without importing it.
    return importlib.util.find_spec(module_name) is not None


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(name for name in COMMANDS if _available(COMMANDS[name][0]))

    def get_command(self, ctx, name):
        if name not in COMMANDS or not _available(COMMANDS[name][0]):
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
    Exit codes: 0 ok/passed, 1 tests failed or a check failed (audit,
    check-input, selectors --collect, findings, merge-driver conflicts),
    2 bad input, 3 selector collected 0 tests, 4 workspace locked,
    124 timeout, 130 interrupted.
    """
