"""Directives: the supervisor's `input.md`, checked (`check`: `check-input`) and written (`brief`).

The file itself is read by `ledger.documents.directive`; here it is judged against the
workspace, or rendered for a row.

May import: `ledger.documents`, `ledger.running` (selectors, their policy and map, evidence),
`ledger.markdown`, `ledger.render`, `ledger.errors`. Never `ledger.reading`, `ledger.html` or
`ledger.cli`.
"""
