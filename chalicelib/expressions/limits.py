"""Hard limits of the expression language, in one place so reviewers can see the whole safety budget.

Expressions are written by tenant admins and run on every record save, so each limit bounds either
parse cost (source, depth, nodes), evaluation cost (steps) or memory (strings, lists, numbers).
Crossing any of them raises chalicelib.errors.ExpressionLimitExceeded.
"""
from __future__ import annotations

# Parse time.
MAX_SOURCE_LENGTH = 4_000          # characters of expression source
MAX_AST_DEPTH = 40                 # nesting of the syntax tree (also caps parser/evaluator recursion)
MAX_AST_NODES = 1_000              # nodes in the syntax tree
MAX_NUMBER_LITERAL_LENGTH = 40     # characters in one number literal (and in a to_number() input)

# Evaluation time, per Expression.evaluate() call.
MAX_EVALUATION_STEPS = 20_000      # node visits plus per-element work in projections and list functions
MAX_STRING_LENGTH = 100_000        # characters in any string the expression produces
MAX_LIST_LENGTH = 10_000           # items in any list the expression produces
MAX_VALUE_NESTING = 32             # nesting of context values compared by == / in (record JSON is shallower)

# Evaluation time, per request (or per item of a background batch): every evaluation in it charges
# one shared budget (see budget.py), so many cheap-enough expressions cannot add up to seconds.
MAX_REQUEST_STEPS = 200_000        # ~0.2 s at ~1 us per step; also the per-record ceiling checked at upload
MAX_REQUEST_CPU_SECONDS = 0.2      # thread CPU spent inside evaluations, whatever the step mix
REQUEST_CPU_CHECK_STEPS = 500      # the CPU clock is read once per this many steps (and per evaluation)
MATCH_SECONDS_PER_BACKTRACK = 3e-9  # predicted regex cost: a match that cannot finish in what is left is refused
STRING_WORK_PER_STEP = 1_000       # characters a string function builds (pad_*, substring, replace) per step

# Regular expressions in matches() (see patterns.py for how backtracking is bounded).
MAX_PATTERN_LENGTH = 200
MAX_MATCH_SUBJECT_LENGTH = 10_000
MATCH_BACKTRACK_BUDGET = 100_000_000  # worst-case backtracking steps per match (~0.3 s)
MATCH_WORK_PER_STEP = 10_000          # backtracking steps charged as one evaluation step: a match at
                                      # the budget costs half of MAX_EVALUATION_STEPS

# Dates: format_date() patterns and the range add_months()/add_years() accept.
MAX_FORMAT_PATTERN_LENGTH = 100       # characters of a format_date() pattern
MAX_MONTHS = 120_000                  # ~10,000 years: anything larger cannot land inside date's range anyway

# Decimal arithmetic: 28 significant digits, |exponent| <= 999, so no value can grow without bound.
NUMBER_PRECISION = 28
NUMBER_MAX_EXPONENT = 999

# Parsed expressions kept by compile_expression().
MAX_CACHED_EXPRESSIONS = 2_048
