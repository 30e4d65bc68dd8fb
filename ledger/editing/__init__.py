"""Editing: every change ledger makes to a file, and the commands that are only edits.

Owns the byte-level splices and the atomic, change-checked writes (temp file + rename, retried
on another writer's change), the workspace lock and the temp files a killed run leaves, the two
bookkeeping edits (a row's state, an attempt), and the commands built from them: `mark`,
`attempt add`, `item --status`, `init`/`new`, `repair` and the git `merge-driver`.

May import: `ledger.documents`, `ledger.markdown`, `ledger.workspace`, `ledger.config`,
`ledger.render`, `ledger.errors`, and `ledger.running.evidence` (a repair completes a run's
folder). Never `ledger.reading`, `ledger.html` or `ledger.cli`.
"""
