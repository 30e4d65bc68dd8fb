"""Running: a row's selector run under the selector policy, and what the run proves.

Owns selector parsing (`selector`), a row's selector (`row_selector`) and the selector policy
(`selector_policy`: what plan text may make pytest do), the selector map (`selectors`), the
interpreter choice, the pre-started gated test interpreter (`warm_start`, and `early_start`:
the one `ledger.entry` forks before ledger loads), the pytest process
(`runner`: argv list, log, timeout, leaked processes),
the JUnit counts, the environment snapshot (`environment`), the outcome table, report folders
and their manifests (`evidence`), attestation (`attest`), the `do` command from plan to record
(`do`, and `do_target` for a folder or directive chosen beforehand), its git commit
(`git_commit`), and `verify` (re-running a run in a clean worktree).

May import: `ledger.documents`, `ledger.editing`, `ledger.markdown`, `ledger.workspace`,
`ledger.config`, `ledger.render`, `ledger.errors`, and two reading modules only:
`ledger.reading.profile` (a run's guardrail) and, in `verify`, `ledger.reading.audit` (which
picks the runs to re-run). Never `ledger.directives`, `ledger.html` or `ledger.cli`.
"""
