"""One expression budget per request (or per item of a background batch), on top of the per-evaluation
step limit: every Expression.evaluate() in the scope charges the same step counter and the same clock of
thread CPU spent inside evaluations, so two hundred computed fields or a row rule over a list page
cannot add up to seconds.

    with expression_budget():          # api.common.route around the handler; background loops per item
        ... any number of evaluations ...

The budget lives in a ContextVar: separate requests (and threads, which start with an empty context)
never share one. Nested `expression_budget()` calls join the open budget; `fresh=True` opens a new one
for one item of a batch (an import row, a stream record, a timer), so one bad record stops only itself.

When it runs out the evaluator raises BudgetExhausted, which is deliberately NOT an AppError: code
that reads a failed expression as "false" or "unknown" (`except AppError`) cannot swallow it, and once
exhausted the budget refuses every later evaluation too. The scope turns it into
errors.ExpressionBudgetExceeded (422 `expression_budget_exceeded`), naming the definition and
expression that were running (origins are noted when definitions are parsed: `note_origin`).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from ..errors import ExpressionBudgetExceeded
from .limits import (MATCH_SECONDS_PER_BACKTRACK, MAX_EVALUATION_STEPS, MAX_REQUEST_CPU_SECONDS, MAX_REQUEST_STEPS,
                     REQUEST_CPU_CHECK_STEPS)

__all__ = ["RequestBudget", "BudgetExhausted", "expression_budget", "current_budget", "note_origin", "origin_of",
           "estimate_steps"]

_clock = time.thread_time  # CPU of this thread only: other requests' work on the same core does not count


class BudgetExhausted(Exception):
    """Internal signal (see the module doc); only ever raised inside an open expression_budget()."""

    def __init__(self, message: str, source: str) -> None:
        super().__init__(message)
        self.message, self.source = message, source


class RequestBudget:
    __slots__ = ("max_steps", "max_cpu", "steps", "cpu", "evaluations", "exhausted", "source", "_started", "_depth",
                 "_next_check")

    def __init__(self, max_steps: int = MAX_REQUEST_STEPS, max_cpu: float = MAX_REQUEST_CPU_SECONDS) -> None:
        self.max_steps, self.max_cpu = max_steps, max_cpu
        self.steps = 0            # steps charged by every evaluation so far
        self.cpu = 0.0            # thread CPU seconds spent inside finished evaluations
        self.evaluations = 0
        self.exhausted: str | None = None
        self.source = ""          # the expression running (or last run)
        self._started = 0.0
        self._depth = 0
        self._next_check = min(REQUEST_CPU_CHECK_STEPS, max_steps + 1)

    # --- called by the evaluator ------------------------------------------------------------
    def enter(self, source: str) -> None:
        if self.exhausted:
            raise BudgetExhausted(self.exhausted, source)
        if self._depth == 0:
            self._started = _clock()
            self.source = source
            self.evaluations += 1
            if self.cpu > self.max_cpu:
                self._exhaust("CPU")
        self._depth += 1

    def leave(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.cpu += _clock() - self._started

    def charge(self, steps: int) -> None:
        self.steps += steps
        if self.steps >= self._next_check:
            self._check()

    def reserve_cpu(self, seconds: float) -> None:
        """Refuse work predicted to take longer than what is left (a regex match is one C call: the
        clock cannot be read in the middle of it)."""
        if self.cpu_used() + seconds > self.max_cpu:
            self._exhaust("CPU")

    # --- internals ------------------------------------------------------------------------------
    def cpu_used(self) -> float:
        return self.cpu + (_clock() - self._started if self._depth else 0.0)

    def _check(self) -> None:
        if self.steps > self.max_steps:
            self._exhaust("steps")
        if self.cpu_used() > self.max_cpu:
            self._exhaust("CPU")
        self._next_check = min(self.steps + REQUEST_CPU_CHECK_STEPS, self.max_steps + 1)

    def _exhaust(self, what: str) -> None:
        limit = f"{self.max_steps} steps" if what == "steps" else f"{int(self.max_cpu * 1000)} ms of CPU"
        self.exhausted = f"the expressions of this request took more than {limit}"
        raise BudgetExhausted(self.exhausted, self.source)


_current: ContextVar[RequestBudget | None] = ContextVar("expression_budget", default=None)


def current_budget() -> RequestBudget | None:
    return _current.get()


@contextmanager
def expression_budget(*, fresh: bool = False, max_steps: int = MAX_REQUEST_STEPS,
                      max_cpu: float = MAX_REQUEST_CPU_SECONDS) -> Iterator[RequestBudget]:
    """Open (or join) the budget of this request; an exhausted budget leaves as ExpressionBudgetExceeded."""
    outer = _current.get()
    if outer is not None and not fresh:
        yield outer  # the boundary that opened it reports
        return
    budget = RequestBudget(max_steps, max_cpu)
    token = _current.set(budget)
    try:
        yield budget
    except BudgetExhausted as exc:
        raise budget_error(exc) from None
    finally:
        _current.reset(token)


def budget_error(exc: BudgetExhausted) -> ExpressionBudgetExceeded:
    where = origin_of(exc.source)
    if where is not None:
        definition, path = where
        message = f"{exc.message}; stopped in {definition} at {path}"
        details = [{"path": path, "message": f"{definition}: this expression was running when the request's "
                                             "expression budget ran out; make it (or the others) cheaper"}]
    else:
        shown = exc.source if len(exc.source) <= 200 else exc.source[:200] + "..."
        message = f"{exc.message}; stopped in expression {shown!r}"
        details = [{"path": "", "message": f"expression {shown!r} was running when the budget ran out"}]
    return ExpressionBudgetExceeded(message, details=details)


# --- where an expression comes from (for messages) ----------------------------------------------
_MAX_ORIGINS = 8_192
_origins: dict[str, tuple[str, str]] = {}


def note_origin(source: str, definition: str, path: str) -> None:
    """Remember that `source` is e.g. form 'work_order' at fields[3].expression (first one noted wins)."""
    if source in _origins:
        return
    if len(_origins) >= _MAX_ORIGINS:
        _origins.clear()  # bounded: only messages get vaguer
    _origins[source] = (definition, path)


def origin_of(source: str) -> tuple[str, str] | None:
    return _origins.get(source)


# --- static estimate (upload checks) --------------------------------------------------------------
def estimate_steps(expression, list_length: int = 0) -> int:
    """Worst-case steps of one evaluation: every node visited once, and every node may also walk a list
    of up to `list_length` items (projections, list functions, ==/in); a matches() call may charge its
    whole regex allowance, and a string-building call (pad_left, substring, ...) its work on the longest
    string. Capped at the per-evaluation limit, which evaluation enforces anyway."""
    from . import _walk
    from .limits import MATCH_BACKTRACK_BUDGET, MATCH_WORK_PER_STEP, MAX_STRING_LENGTH, STRING_WORK_PER_STEP
    from .nodes import Call
    nodes = matches = texts = 0
    for node in _walk(expression._tree):
        nodes += 1
        if isinstance(node, Call):
            matches += node.name == "matches"
            texts += node.name in TEXT_WORK_FUNCTIONS
    return min(MAX_EVALUATION_STEPS, nodes * (1 + list_length) + matches * (MATCH_BACKTRACK_BUDGET // MATCH_WORK_PER_STEP)
               + texts * (MAX_STRING_LENGTH // STRING_WORK_PER_STEP))


TEXT_WORK_FUNCTIONS = frozenset({"substring", "left", "right", "pad_left", "pad_right", "replace", "index_of"})


def predicted_match_seconds(backtracks: int) -> float:
    return backtracks * MATCH_SECONDS_PER_BACKTRACK
