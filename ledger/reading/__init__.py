"""Reading: read-only answers about a workspace.

Owns `status` and `show` (one module each; `status.row_data` is the row both give), `next`
(`next_row`), `audit` (which rows really have evidence, and what else is broken), `profile`
(runtime statistics and guardrails) and the sparkline it draws. Nothing here writes a team
file; `profile --write` renders `runtime_profile.md` through `ledger.editing`.

May import: `ledger.documents`, `ledger.running` (evidence, outcomes, selectors), `ledger.editing`
(locks and writes for `profile --write`; the audit looks for the run journal and temp files
editing leaves), `ledger.markdown`, `ledger.workspace`, `ledger.config`, `ledger.render`,
`ledger.errors`. Never `ledger.directives`, `ledger.html` or `ledger.cli`.
"""
