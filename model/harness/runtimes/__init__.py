"""Handlers that run out of process: the runner protocol (``docs/runners.md``), the process
that speaks it (``process``), the node runner that ships with queuecheck (``node``), and the
AWS-protocol proxy through which such a handler reaches DynamoDB and SQS (``proxy``)."""
