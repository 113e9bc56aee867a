"""Generates differential_cases.json: random expressions evaluated by the server's implementation
(chalicelib/expressions), which differential.test.ts runs through the TypeScript one. Results are
compared exactly - a number by its Python str(), so the exponent (2.50 vs 2.5) must match too.

    .venv/bin/python console/src/expressions/differential_cases.py 1 1500 console/src/expressions/differential_cases.json 600

(the fourth argument: how many cases of the calendar and text helpers follow the first 1,500)
"""
import json, random, sys
sys.path.insert(0, str(__import__('pathlib').Path(__file__).resolve().parents[3]))
from decimal import Decimal
from chalicelib.expressions import compile_expression
from chalicelib.errors import ExpressionError
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)

def num():
    k = random.random()
    if k < 0.3: return str(random.randint(0, 20))
    if k < 0.5: return f"{random.randint(0, 999)}.{random.randint(0, 999):0{random.randint(1,3)}d}"
    if k < 0.6: return "0." + "0"*random.randint(0, 5) + str(random.randint(1, 99))
    if k < 0.7: return str(random.randint(1, 9)) * random.randint(10, 40)
    if k < 0.8: return "0.50"
    if k < 0.9: return "x"
    return "y"

def arith(depth=0):
    if depth > 3 or random.random() < 0.3:
        n = num()
        return ("-" + n) if random.random() < 0.2 else n
    op = random.choice(["+", "-", "*", "/", "%", "*", "/"])
    k = random.random()
    if k < 0.08: return f"round({arith(depth+1)}, {random.randint(-3, 6)})"
    if k < 0.12: return f"floor({arith(depth+1)})"
    if k < 0.16: return f"ceil({arith(depth+1)})"
    if k < 0.2: return f"abs({arith(depth+1)})"
    if k < 0.24: return f"sum([{arith(depth+1)}, {arith(depth+1)}])"
    if k < 0.28: return f"avg([{arith(depth+1)}, {arith(depth+1)}, {arith(depth+1)}])"
    if k < 0.32: return f"max({arith(depth+1)}, {arith(depth+1)})"
    return f"({arith(depth+1)} {op} {arith(depth+1)})"

def date():
    y = random.choice([1, 2, 1999, 2000, 2024, 2023, 9999])
    m = random.randint(1, 12); d = random.randint(1, 31 if random.random() < 0.2 else 28)
    s = f"{y:04d}-{m:02d}-{d:02d}"
    if random.random() < 0.5:
        s += f"T{random.randint(0,23):02d}:{random.randint(0,59):02d}"
        if random.random() < 0.6: s += f":{random.randint(0,59):02d}"
        if random.random() < 0.3 and s.count(":") == 2: s += "." + str(random.randint(0, 999999999))[:random.randint(1,9)]
        s += random.choice(["", "Z", "+05:30", "-08:00", "+0100", "-23:59", "+14:00"])
    return s

def dates():
    f = random.choice(["date", "year", "month", "day", "weekday"])
    if random.random() < 0.5: return f"{f}('{date()}')"
    g = random.choice(["add_days", "days_between", "hours_between"])
    if g == "add_days":
        n = random.choice(["1", "-1", "0.5", "1.25", "365", "-730", "0.000001", "3660000", "2.5"])
        return f"add_days('{date()}', {n})"
    return f"{g}('{date()}', '{date()}')"

STRS = ["'abc'", "'ÄbÇ'", "'straße'", "' \\t x \\n'", "'😀a'", "'ǅ'", "'İ'", "'ﬁ'", "'ΑΣ'", "''", "'a\u00a0'"]
def strings():
    f = random.choice(["lower", "upper", "trim", "len", "to_string", "concat"])
    if f == "to_string": return f"to_string({arith()})"
    if f == "concat": return f"concat({random.choice(STRS)}, {arith()}, true, null)"
    return f"{f}({random.choice(STRS)})"

PATTERNS = [r"\d+", r"\w+", r"\s*x\s*", r"[^\W\d]+", r"a|ab|abc", r"(ab|cd)e", r"x$", r"^x", r"(?i)abc", r".+", r"(?s).+",
            r"[\d\s]+", r"\bx\b", r"a{2,3}", r"(a)\1", r"(?:a|b)*c", r"[a-c]+?d", r"(?=a)\w+", r"(?<=a)b", r"a++b", r"(?>a+)b",
            r"\x41", r"\u00e9", r"[\u00e0-\u00ff]+", r"(?P<g>a)(?P=g)", r"[]a]+", r"[^]a]+", r"a{,2}", r"a{2}", r"\Ax\Z",
            r"(?x) a b # c", r"(?m)^x$", r"\S+", r"\D", r"[\S]", r"[^\s]+", r"\B", r"(a|b)", r"(ab|ac)+", r"a**", r"[z-a]",
            r"\q", r"(?<=a+)b", r"(?i:a)b", r"\1(a)", r"(?#c)x", r"a{3,2}", r"[\w-]+", r"[-a]", r"[a-]", r"(?a)\w+", r"(?u)\w+"]
SUBJECTS = ["'123'", "'١٢٣'", "'abc'", "'ÄbÇ'", "' x '", "'x\\n'", "'x'", "'ABC'", "'a\\nb'", "'aab'", "'aa'", "'ab'", "'abcd'",
            "'cde'", "'abe'", "'é'", "'ac'", "'b'", "'aaa'", "'ａｂ'", "'x_1'", "''", "'\\u3000'", "'a-b'", "'abac'"]
def matches():
    p = random.choice(PATTERNS)
    return "matches(" + random.choice(SUBJECTS) + ", '" + p.replace("'", "\\'") + "')"

def cmp():
    return f"{arith()} {random.choice(['<', '<=', '==', '!=', '>', '>='])} {arith()}"

def enc(v):
    if isinstance(v, Decimal): return "D:" + str(v)
    if isinstance(v, str): return "S:" + v
    if isinstance(v, list): return [enc(i) for i in v]
    return v

out = []
for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 3000):
    kind = random.random()
    e = arith() if kind < 0.45 else dates() if kind < 0.65 else strings() if kind < 0.8 else matches() if kind < 0.92 else cmp()
    ctx = {"x": random.choice([0.1, 2.0, 1e16, 1.5e-7, 3, 10**30, -0.0, 123.456]), "y": random.choice([7, 0.25, 1e-5])}
    try:
        r = compile_expression(e).evaluate(ctx)
        out.append({"expr": e, "context": ctx, "result": enc(r)})
    except ExpressionError as exc:
        out.append({"expr": e, "context": ctx, "error": exc.code, "message": exc.message})
# The calendar and text helpers (add_months ... index_of), generated after the cases above so those stay
# as they were: month ends, leap days, offsets, code points past U+FFFF, widths around the limits.
def whole():
    return random.choice(["0", "1", "-1", "2", "3", "5", "12", "13", "-13", "24", "-25", "100", "0.5", "-0.0", "x", "y",
                          "1000000000000000000000000000000", "-1000000000000000000000000000000", "null"])

REPLACEMENTS = ["'+'", "''", "'😀😀'", "null"]
TEXTS = STRS + ["'hello'", "'😀😀ab'", "'a😀b😀c'", "'WO-0042'", "null", "'aaa'", "'a-b-c'"]
def calendar():
    f = random.choice(["add_months", "add_years", "start_of_month", "end_of_month", "format_date"])
    d = random.choice([date(), date(), "2024-01-31", "2023-01-31", "2024-02-29", "0001-01-31", "9999-12-31",
                       "2024-03-31T23:30:00-08:00", "2024-05-31T00:15+05:30", "0001-01-01T00:00Z"])
    if f in ("start_of_month", "end_of_month"): return f"{f}('{d}')"
    if f == "format_date":
        p = "".join(random.choice(["YYYY", "YY", "MM", "DD", "HH", "mm", "ss", "Y", "M", "D", "-", "/", " ", ":", "T", "😀", "Ä"])
                    for _ in range(random.randint(0, 8)))
        return f"format_date('{d}', '{p}')"
    return f"{f}('{d}', {whole()})"

def text():
    f = random.choice(["substring", "substring", "left", "right", "pad_left", "pad_right", "replace", "index_of"])
    t = random.choice(TEXTS)
    if f == "substring":
        return f"substring({t}, {whole()})" if random.random() < 0.3 else f"substring({t}, {whole()}, {whole()})"
    if f in ("left", "right"): return f"{f}({t}, {whole()})"
    if f in ("pad_left", "pad_right"):
        width = random.choice([whole(), "7", "10", "300", "100001"])
        if random.random() < 0.4: return f"{f}({t}, {width})"
        return f"{f}({t}, {width}, '{random.choice(['0', '.', '😀', '', 'ab', ' '])}')"
    needle = random.choice(["'a'", "'😀'", "''", "'-'", "'l'", "'xyz'", "null", "1"])
    if f == "index_of": return f"index_of({t}, {needle})"
    return f"replace({t}, {needle}, {random.choice(REPLACEMENTS)})"

for _ in range(int(sys.argv[4]) if len(sys.argv) > 4 else 0):
    e = calendar() if random.random() < 0.5 else text()
    ctx = {"x": random.choice([1, 2.0, -3, 0.5]), "y": random.choice([7, 40, -2])}
    try:
        r = compile_expression(e).evaluate(ctx)
        out.append({"expr": e, "context": ctx, "result": enc(r)})
    except ExpressionError as exc:
        out.append({"expr": e, "context": ctx, "error": exc.code, "message": exc.message})
json.dump(out, open(sys.argv[3], "w"), ensure_ascii=False, separators=(",", ":"))
print(len(out), sum('error' in c for c in out))
