"""The calendar and text helpers (add_months, add_years, start_of_month, end_of_month, format_date,
substring, left, right, pad_left, pad_right, replace, index_of) beyond the shared case table
(expression_cases.json, which the console runs too): parse-time checks, the work they charge to the
step limit and the request budget, the upload estimate, and the walker and the compiled closures
charging the same steps."""
from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.errors import ExpressionError, ExpressionLimitExceeded
from chalicelib.expressions import check_expression, compile_expression, limits
from chalicelib.expressions.budget import RequestBudget, _current, estimate_steps
from chalicelib.expressions.compiler import program
from chalicelib.expressions.evaluator import evaluate
from chalicelib.expressions.functions import FUNCTIONS
from chalicelib.expressions.parser import parse

NEW = ("add_months", "add_years", "start_of_month", "end_of_month", "format_date", "substring", "left", "right",
       "pad_left", "pad_right", "replace", "index_of")


def run(source: str, context: dict | None = None):
    return compile_expression(source).evaluate(context or {})


def steps(source: str, context: dict | None = None) -> tuple[int, int]:
    """(steps the walker charged, steps the compiled closures charged) to the request budget."""
    charged = []
    for evaluate_once in (lambda tree: evaluate(tree, context or {}, source),
                          lambda tree: program(tree)(context or {}, source)):
        budget = RequestBudget(max_steps=10**9, max_cpu=10.0)
        token = _current.set(budget)
        try:
            evaluate_once(parse(source))
        finally:
            _current.reset(token)
        charged.append(budget.steps)
    return charged[0], charged[1]


def test_every_helper_is_registered_with_its_argument_counts():
    arity = {name: (FUNCTIONS[name].min_args, FUNCTIONS[name].max_args) for name in NEW}
    assert arity == {"add_months": (2, 2), "add_years": (2, 2), "start_of_month": (1, 1), "end_of_month": (1, 1),
                     "format_date": (2, 2), "substring": (2, 3), "left": (2, 2), "right": (2, 2),
                     "pad_left": (2, 3), "pad_right": (2, 3), "replace": (3, 3), "index_of": (2, 2)}


@pytest.mark.parametrize("source, message", [
    ("substring('a')", "substring() takes 2 to 3 arguments, got 1"),
    ("pad_left('a', 1, ' ', 2)", "pad_left() takes 2 to 3 arguments, got 4"),
    ("add_months('2024-01-01')", "add_months() takes 2 arguments, got 1"),
    ("end_of_month()", "end_of_month() takes 1 argument, got 0"),
    ("replace('a', 'b')", "replace() takes 3 arguments, got 2"),
])
def test_wrong_argument_counts_are_refused_at_parse_time(source, message):
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert message in caught.value.message


@pytest.mark.parametrize("source, message", [
    ("substring(12, 0)", "substring() expects a string, got number"),
    ("substring('abc', '1')", "substring() start must be a whole number, got string"),
    ("substring('abc', 0, 1.5)", "substring() length must be a whole number"),
    ("left('abc', true)", "left() count must be a whole number, got boolean"),
    ("pad_left('7', 3, '00')", "pad_left() fill must be one character"),
    ("pad_right('7', 3, 0)", "pad_right() fill must be one character, got number"),
    ("pad_left('7', 2.5)", "pad_left() width must be a whole number"),
    ("replace('abc', 'a', 1)", "replace() expects a string, got number"),
    ("index_of(['a'], 'a')", "index_of() expects a string, got list"),
    ("add_months('2024-01-01', 0.5)", "add_months(): the number of months must be a whole number"),
    ("add_years('2024-01-01', 0.5)", "add_years(): the number of years must be a whole number"),
    ("add_months('2024-01-01', 120001)", "add_months(): 120001 months is out of range"),
    ("add_years('2024-01-01', -10001)", "add_years(): -10001 years is out of range"),
    ("add_months('9999-12-15', 1)", "add_months(): the result is outside the supported date range"),
    ("add_months('2024-01-01', '1')", "add_months() expects a number, got string"),
    ("format_date('2024-01-01', 1)", "format_date() expects a string, got number"),
    ("format_date('1.1.2024', 'YYYY')", "format_date(): '1.1.2024' is not an ISO date or date-time"),
    ("start_of_month(5)", "start_of_month() expects a string, got number"),
])
def test_errors_say_what_is_wrong_in_plain_words(source, message):
    with pytest.raises(ExpressionError) as caught:
        run(source)
    assert caught.value.message == f"{message} at position 0"
    assert caught.value.code == "invalid_expression"


def test_a_literal_format_pattern_is_checked_at_parse_time_and_a_computed_one_at_run_time():
    too_long = "Y" * (limits.MAX_FORMAT_PATTERN_LENGTH + 1)
    with pytest.raises(ExpressionLimitExceeded) as caught:
        parse(f"if(false, format_date('2024-01-01', '{too_long}'), null)")  # even in an untaken branch
    assert "longer than 100 characters" in caught.value.message
    assert caught.value.position == 36
    parse("format_date('2024-01-01', '" + "Y" * limits.MAX_FORMAT_PATTERN_LENGTH + "')")
    with pytest.raises(ExpressionLimitExceeded):
        run("format_date(d, p)", {"d": "2024-01-01", "p": too_long})


def test_format_date_has_no_strftime_passthrough():
    assert run("format_date('2024-03-05T07:08:09Z', '%Y-%m-%d %H %c %%')") == "%Y-%m-%d %H %c %%"
    assert run("format_date('2024-03-05T07:08:09Z', '{0.__class__}')") == "{0.__cla09__}"  # 'ss' is a token
    assert run("format_date('2024-03-05T07:08:09Z', '[{0.__class__}] [DD]DD [')") == "{0.__class__} DD05 ["
    # a date-time is written in its own offset; UTC values (the platform's) therefore in UTC
    assert run("format_date('2024-03-05T23:30:00-05:00', 'DD HH:mm')") == "05 23:30"
    assert run("format_date(x, 'YYYY-MM-DD HH:mm:ss')", {"x": "2024-03-05T04:30:00Z"}) == "2024-03-05 04:30:00"


def test_month_arithmetic_walks_every_month_end_of_a_leap_and_a_common_year():
    ends = {"2024": [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], "2023": [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]}
    for year, days in ends.items():
        for month, last in enumerate(days, start=1):
            start = f"{int(year) - 1}-12-31"
            assert run(f"add_months('{start}', {month})") == f"{year}-{month:02d}-{last:02d}"
            assert run(f"end_of_month('{year}-{month:02d}-10')") == f"{year}-{month:02d}-{last:02d}"
            assert run(f"start_of_month('{year}-{month:02d}-{last:02d}')") == f"{year}-{month:02d}-01"
    # clamping does not accumulate: 31 Jan + 2 months is 31 Mar, not 29 Mar
    assert run("add_months('2024-01-31', 2)") == "2024-03-31"
    assert run("add_months(add_months('2024-01-31', 1), 1)") == "2024-03-29"
    assert run("add_months('2024-03-31', -1)") == run("add_years('2028-02-29', -4)") == "2024-02-29"


def test_pad_charges_its_width_and_the_walker_and_closures_agree():
    per = limits.STRING_WORK_PER_STEP
    cheap = steps("pad_left('7', 3, '0')")
    wide = steps("pad_left('7', 50000, '0')")
    assert cheap[0] == cheap[1] and wide[0] == wide[1]
    assert wide[0] - cheap[0] == 50_000 // per
    assert steps("pad_left('abcdef', 50000, ' ')")[0] - steps("pad_left('abcdef', 3, ' ')")[0] == 50_000 // per
    text = "x" * 40_000
    sub = steps("substring(s, 0)", {"s": text})
    assert sub[0] == sub[1] == 3 + 40_000 // per
    rep = steps("replace(s, 'x', 'yy')", {"s": text})
    assert rep[0] == rep[1] == 4 + 80_000 // per
    assert steps("index_of(s, 'z')", {"s": text})[0] == 3 + 40_000 // per


def test_many_wide_pads_run_into_the_step_limit():
    one = "len(pad_left(e,w))"
    assert run(one, {"e": "", "w": 100_000}) == Decimal(100_000)
    many = "sum([" + ",".join([one] * 201) + "])"  # 201 x 100 steps of padding: past one evaluation's 20,000
    assert run("sum([" + ",".join([one] * 150) + "])", {"e": "", "w": 100_000}) == Decimal(15_000_000)
    with pytest.raises(ExpressionLimitExceeded) as caught:
        run(many, {"e": "", "w": 100_000})
    assert "steps" in caught.value.message


def test_the_upload_estimate_covers_string_work():
    plain, padded = compile_expression("concat(a, b)"), compile_expression("pad_left(a, 5, '0')")
    assert estimate_steps(plain) == 3
    assert estimate_steps(padded) == 4 + limits.MAX_STRING_LENGTH // limits.STRING_WORK_PER_STEP
    # what any evaluation actually charges stays within the estimate
    worst = compile_expression("pad_left(a, w, '0')")
    charged = steps("pad_left(a, w, '0')", {"a": "1", "w": limits.MAX_STRING_LENGTH})[0]
    assert charged <= estimate_steps(worst)


def test_check_expression_accepts_the_helpers_like_any_function():
    expression = check_expression("pad_left(to_string(seq), 5, '0') + format_date($today, 'YYYY')", ["seq"])
    assert expression.field_roots == {"seq"} and expression.variables == {"$today"}
