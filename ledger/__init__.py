"""ledger: deterministic plan/ledger bookkeeping for agent loops."""

__version__ = "0.1.0"
