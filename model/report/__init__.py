"""A run as one self-contained HTML page: what was verified, the coverage, and each failing run
as a sequence diagram with the record after every step.

``trace`` is the data the page shows (pure attrs values, filled from the state machine's story);
``sequence`` lays the failing run out as SVG; ``html`` renders the page. Like ``model.core`` it
imports no AWS library and no test tool (import-linter checks it); ``chromium`` takes screenshots
of a page with the system's headless Chromium, for the docs and the browser test.
"""
