"""Editing: every change ledger makes to a file, and the commands that are only edits.

Owns the atomic, change-checked writes of spliced text (`writes`: temp file + rename, retried
on another writer's change), the workspace lock (`locking`) and the temp files a killed run
leaves (`tempfiles`), the two bookkeeping edits (`bookkeeping`: a row's state, an attempt), and
the commands built from them, one module each: `mark`, `attempt` (`attempt add`),
`item_status` (`item --status`), `init`, `new`, `repair` and `merge` (the git `merge-driver`).

May import: `ledger.documents`, `ledger.markdown`, `ledger.workspace`, `ledger.config`,
`ledger.render`, `ledger.errors`, and `ledger.running.evidence` (a repair completes a run's
folder; its `utc_now` dates a note, an attempt, a new plan). Never `ledger.reading`,
`ledger.directives`, `ledger.html` or `ledger.cli`.
"""
