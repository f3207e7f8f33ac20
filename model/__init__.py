"""queuecheck's model of an intake and the machinery that checks a handler against it.

The folders say what a module may touch:

- ``core``: the pure oracle. Statuses, the contract, fault and race plans, observations,
  outcomes, invariants (the contract's and the generic ones), the serial-order checks and the
  intake description (pipeline files). It imports nothing from boto3, botocore, moto,
  Hypothesis or ``reference``: an oracle that shares code with what it judges shares its bugs.
- ``harness``: the machinery around it. The state machine, the driver, the sandbox and its
  backends, fault injection, the interleaving scheduler, log capture, profiles.
- ``scenarios``: scenario files: the format and its static check against the model (pure),
  the runner and the writer (on the harness).
- ``entrypoints``: what a user runs: ``queuecheck-verify`` and the pytest plugin.

``tox -e lint`` keeps these layers apart with import-linter (pyproject.toml).
"""
