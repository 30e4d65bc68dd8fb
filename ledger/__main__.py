from ledger.entry import run

run()
