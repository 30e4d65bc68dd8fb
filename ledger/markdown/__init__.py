"""Span-preserving readers for the Markdown the plan/ledger process writes, and the splice.

May import: `ledger.errors`. Nothing else in `ledger`.
"""
