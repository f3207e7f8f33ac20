"""queuecheck's model of an intake pipeline and the machinery that checks a handler against it.

The pure core (``lifecycle``, ``contract``, ``plans``, ``observed``, ``outcomes``,
``invariants``) imports nothing from boto3, botocore, moto or ``reference``: an oracle that
shares code with what it judges shares its bugs. The machinery (``faults``, ``sandbox``,
``machine``, ``report``, ``plugin``, ``verify``) wraps it around moto and Hypothesis.
"""
