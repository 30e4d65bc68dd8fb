"""Span-preserving readers for the Markdown the plan/ledger process writes."""
