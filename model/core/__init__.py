"""The pure core: what an intake must do, stated as data and functions, with no I/O.

Nothing here imports boto3, botocore, moto, Hypothesis, pytest or ``reference`` (import-linter
checks it in ``tox -e lint``); reading a pipeline file is the only I/O.
"""
