"""The static dashboard site that `ledger html` writes, and its loopback server.

May import everything in `ledger` except `ledger.cli`: it is a view over all the rooms.
"""
