"""Two invocations interleaved at chosen AWS calls, one running at a time.

Each invocation runs on a thread of its own, but only the one holding the turn runs: at each
AWS call the injector asks the scheduler, which hands the turn over when the drawn switch point
is reached. So moto (and any handler state) sees one caller at a time, the interleaving is
fixed by the switch points alone, and Hypothesis shrinks and replays it like any other draw.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import attrs

from model.core.plans import Switches
from model.harness import profiles


class InterleavingStuck(Exception):
    """An invocation did not give the turn back: the handler waits on something of its own."""


STUCK = (
    "invocation {me} never got its turn back: {other} neither made an AWS call nor answered "
    "within {patience:g} s ({env} sets the patience)"
)


@attrs.define
class Scheduler:
    """Hands the turn between two threads at the switch points; the injector calls ``at_call``
    before each AWS call of either invocation."""

    switches: Switches
    on_switch: Callable[[int, str], None]
    """Called by the invocation that hands over (its index, the call it was about to make)."""
    patience_s: float = attrs.Factory(profiles.patience_s)
    """How long an invocation may keep the turn without an AWS call or an end: far longer than
    any calm invocation takes, reached only if a handler blocks on its own."""
    calls: list[str] = attrs.Factory(list)
    """Every AWS call either made, in order: "A dynamodb.PutItem"."""
    _turn: int = 0
    _left: list[int] = attrs.Factory(list)
    _made: int = 0
    _done: list[bool] = attrs.Factory(lambda: [False, False])
    _who: threading.local = attrs.Factory(threading.local)
    _changed: threading.Condition = attrs.Factory(threading.Condition)
    _stuck: str | None = None
    """Why a turn was never given back: raised by ``run`` even where the handler swallowed the
    exception raised inside its AWS call (a catch-all answering 500)."""

    def __attrs_post_init__(self) -> None:
        self._left = list(self.switches.calls)

    def identity(self) -> int | None:
        """Which invocation the calling thread runs (None: neither)."""
        return getattr(self._who, "index", None)

    def act_as(self, index: int | None) -> None:
        """Let the calling thread take turns for invocation ``index``: a proxy's thread serving
        an out-of-process invocation's AWS call."""
        self._who.index = index

    def at_call(self, operation: str) -> None:
        me = getattr(self._who, "index", None)
        if me is None:  # not one of the two invocations (the harness's own reads)
            return
        with self._changed:
            if self._left and self._made >= self._left[0] and not self._done[1 - me]:
                self._left.pop(0)
                self._made = 0
                self.on_switch(me, operation)
                self._turn = 1 - me
                self._changed.notify_all()
                self._wait_for(me)
            self._made += 1
            self.calls.append(f"{'AB'[me]} {operation}")

    def _wait_for(self, me: int) -> None:
        if not self._changed.wait_for(lambda: self._turn == me, timeout=self.patience_s):
            self._stuck = self._stuck or STUCK.format(
                me="AB"[me], other="AB"[1 - me], patience=self.patience_s, env=profiles.PATIENCE_ENV
            )
            raise InterleavingStuck(self._stuck)

    def run(self, first: Callable[[], Any], second: Callable[[], Any]) -> list[Any]:
        """Run both to their end; return what each returned. An exception on either thread
        (even a BaseException, such as the sandbox refusing a request) is raised here."""
        results: list[Any] = [None, None]
        errors: list[BaseException] = []

        def body(index: int, call: Callable[[], Any]) -> None:
            self._who.index = index
            try:
                with self._changed:
                    self._wait_for(index)
                results[index] = call()
            except BaseException as exc:  # carried over to the caller, raised there
                errors.append(exc)
            finally:
                with self._changed:
                    self._done[index] = True
                    self._made = 0
                    self._left.clear()
                    self._turn = 1 - index
                    self._changed.notify_all()

        threads = [
            threading.Thread(target=body, args=(i, call), daemon=True, name=f"invocation-{'AB'[i]}")
            for i, call in enumerate((first, second))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(self.patience_s * 2)
            if thread.is_alive():
                why = f" ({self._stuck})" if self._stuck else ""
                raise InterleavingStuck(f"{thread.name} did not finish{why}")
        if self._stuck is not None:
            raise InterleavingStuck(self._stuck)
        if errors:
            raise errors[0]
        return results
