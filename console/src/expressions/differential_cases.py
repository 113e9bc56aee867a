"""Generates differential_cases.json: random expressions evaluated by the server's implementation
(chalicelib/expressions), which differential.test.ts runs through the TypeScript one. Results are
compared exactly - a number by its Python str(), so the exponent (2.50 vs 2.5) must match too.

    .venv/bin/python console/src/expressions/differential_cases.py 1 1500 console/src/expressions/differential_cases.json
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

out = []
for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 3000):
    kind = random.random()
    e = arith() if kind < 0.45 else dates() if kind < 0.65 else strings() if kind < 0.8 else matches() if kind < 0.92 else cmp()
    ctx = {"x": random.choice([0.1, 2.0, 1e16, 1.5e-7, 3, 10**30, -0.0, 123.456]), "y": random.choice([7, 0.25, 1e-5])}
    try:
        r = compile_expression(e).evaluate(ctx)
        def enc(v):
            if isinstance(v, Decimal): return "D:" + str(v)
            if isinstance(v, str): return "S:" + v
            if isinstance(v, list): return [enc(i) for i in v]
            return v
        out.append({"expr": e, "context": ctx, "result": enc(r)})
    except ExpressionError as exc:
        out.append({"expr": e, "context": ctx, "error": exc.code, "message": exc.message})
json.dump(out, open(sys.argv[3], "w"), ensure_ascii=False, separators=(",", ":"))
print(len(out), sum('error' in c for c in out))
