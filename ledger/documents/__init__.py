"""Documents: the Markdown files the process reads and writes, parsed into spans.

Owns the plan files (phases, task tables, checklists), the row-state vocabulary, the ledger
file (`docs/fix_plan.md` in every layout real loops write), the findings file and the evidence
citations in their prose. Everything here is a pure reader: it returns positions (line and
byte spans) that `ledger.editing` splices, and never writes a file or runs a process.

May import: `ledger.markdown`, `ledger.errors`. Nothing else in `ledger`.
"""
