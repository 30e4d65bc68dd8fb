"""Documents: the Markdown files the process reads and writes, parsed into spans.

Owns the plan files (`plan`: phases, task tables, checklists), the row-state vocabulary
(`states`), the ledger file (`fix_plan`: `docs/fix_plan.md` in every layout real loops write),
the findings file (`findings`), the evidence citations in their prose (`citations`) and the
supervisor's directive (`directive`: `input.md`). Everything here is a pure reader: it returns
positions (line and byte spans, splices) that `ledger.editing` applies, and never writes a file
or runs a process.

May import: `ledger.markdown`, `ledger.errors`. Nothing else in `ledger`.
"""
