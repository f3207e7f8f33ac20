"""What users run: ``verify`` (the ``queuecheck-verify`` command) and ``plugin`` (pytest)."""
