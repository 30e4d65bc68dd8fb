"""Directives: the supervisor's `input.md`, checked (`check-input`) and written (`brief`).

May import: `ledger.documents`, `ledger.running` (selectors, their policy and map, evidence),
`ledger.markdown`, `ledger.render`, `ledger.errors`. Never `ledger.cli` or `ledger.html`.
"""
