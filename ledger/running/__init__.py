"""Running: a row's selector run under the selector policy, and what the run proves.

Owns selector parsing and the selector policy (what plan text may make pytest do), the
interpreter choice, the pytest process (argv list, log, timeout, leaked processes), the JUnit
counts, the environment snapshot, the outcome table, report folders and their manifests,
attestation, the `do` command from plan to record, its git commit, and `verify` (re-running a
run in a clean worktree).

May import: `ledger.documents`, `ledger.editing`, `ledger.markdown`, `ledger.workspace`,
`ledger.config`, `ledger.render`, `ledger.errors`, and `ledger.reading` only for a run's
guardrail (profile) and, in `verify`, the audit that picks the runs to re-run.
"""
