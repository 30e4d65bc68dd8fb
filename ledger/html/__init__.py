"""The static dashboard site that `ledger html` writes (`site`), and its loopback server (`serve`).

May import: everything in `ledger`, as it is a view over all the rooms. Never `ledger.cli`.
"""
