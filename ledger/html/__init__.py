"""The static dashboard site that `ledger html` writes, and its loopback server.

`pages` assembles each page's data (from the audit's own reading), `charts` draws the inline
SVG, `text` turns plan text into safe HTML, `site` renders the templates and writes the
pages; `serve` serves them on loopback.

May import: everything in `ledger`, as it is a view over all the rooms. Never `ledger.cli`.
"""
