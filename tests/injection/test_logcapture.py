"""The log capture sees what a deployed function would write, and nothing it would not."""

import logging
import sys

from model.harness.logcapture import captured


def test_records_output_and_tracebacks_are_captured():
    """Log records, stdout and stderr lines, and a logged exception's traceback are captured."""
    logger = logging.getLogger("capture.test.info")
    logger.setLevel(logging.INFO)
    with captured() as lines:
        logger.info("stored %s", "m-1")
        print("to stdout")
        print("to stderr", file=sys.stderr)
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    assert "stored m-1" in lines and "to stdout" in lines and "to stderr" in lines
    assert any("ValueError: boom" in line for line in lines)


def test_levels_are_left_as_they_are():
    """A DEBUG record of a logger left at the default level is not emitted, so not captured;
    the root logger's level is the same afterwards."""
    root_level = logging.getLogger().level
    with captured() as lines:
        logging.getLogger("capture.test.quiet").debug("params: %s", "secret")
    assert [] == lines
    assert root_level == logging.getLogger().level
