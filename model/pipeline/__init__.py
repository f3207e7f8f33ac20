"""Pipeline files: verifying intakes that are not written to queuecheck's own contract.

A pipeline file (TOML) says how to talk to an intake and how to read what it stores:
``spec`` reads and checks it, ``observe`` reads the table and queue through it, ``invariants``
holds the generic invariants, all three pure. ``events`` builds the file's events and
``machine`` drives the handler with them next to the generic model.
"""
