#!/usr/bin/env python3
"""Checks ctrace JSON output against expectations given as small Python expressions.

usage: jsoncheck.py FILE EXPR...   each EXPR is evaluated with `d` bound to the parsed document and
helpers below; a false or failing EXPR prints it and exits 1.
"""
import json
import sys


def thread(d, name):
    for t in d["threads"]:
        if t["name"] == name:
            return t
    raise KeyError("no thread named %r" % name)


def funcs(t):
    return [f["function"] for f in t["frames"]]


def has_seq(lst, seq):
    """seq appears in lst in order, each right after the previous (gaps not allowed)."""
    n = len(seq)
    return any(lst[i:i + n] == seq for i in range(len(lst) - n + 1))


def main():
    path = sys.argv[1]
    with open(path) as f:
        d = json.load(f)
    env = {"d": d, "thread": lambda n: thread(d, n), "funcs": funcs, "has_seq": has_seq}
    ok = True
    for expr in sys.argv[2:]:
        try:
            good = eval(expr, env)
        except Exception as e:  # noqa: BLE001 - report any failure of the expression
            good = False
            print("error in %s: %s" % (expr, e))
        if not good:
            print("not true: %s" % expr)
            ok = False
    sys.exit(0 if ok else 1)


main()
