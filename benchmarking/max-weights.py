#!/usr/bin/env python3
"""Merges two runs of `benchmark pallet` for one pallet into weights no lower than either.

    benchmarking/max-weights.py RUN_A.rs RUN_B.rs > pallets/<p>/src/weights.rs

This VM's timings spread by up to 2x between runs minutes apart on the same binary (session
26: lending's `repay_debt` 105 vs 209 us). A weight must not undercharge, so the committed
file takes, for each weight function, every number of its formula (the base, each
component's slope, the proof sizes, the reads and writes) as the larger of the two runs':
a formula at least both runs' everywhere in its range. Where the two formulas differ in shape
(a term one run has and the other has not) no choice of either is safe everywhere: the script
names those functions and exits with an error, to be merged by hand (none had so far).
Comments (the measured proof summary, the minimum execution time, the storage list) are run
B's.
"""

import re
import sys

FN = re.compile(r"(\tfn (\w+)\(([^)]*)\) -> Weight \{\n)(.*?)(\n\t\})", re.S)
NUM = re.compile(r"(?<![\w.])(\d[\d_]*)(_u64)?(?![\w])")


def code_numbers(body):
    """The numbers of the formula (not of comments), with where they are."""
    out = []
    offset = 0
    for line in body.split("\n"):
        if not line.strip().startswith("//"):
            for m in NUM.finditer(line):
                out.append((offset + m.start(1), offset + m.end(1), int(m.group(1).replace("_", ""))))
        offset += len(line) + 1
    return out


def shape(body):
    lines = [l for l in body.split("\n") if not l.strip().startswith("//")]
    return [NUM.sub("#", l) for l in lines]


def merge(a_text, b_text):
    a_fns = {}
    for m in FN.finditer(a_text):
        a_fns.setdefault(m.group(2), []).append(m.group(4))
    seen = {}
    differ = []
    out = []
    last = 0
    for m in FN.finditer(b_text):
        name = m.group(2)
        i = seen.get(name, 0)
        seen[name] = i + 1
        b_body = m.group(4)
        a_body = a_fns.get(name, [None] * (i + 1))[i]
        if a_body is None:
            body = b_body
        elif shape(a_body) == shape(b_body):
            a_nums = code_numbers(a_body)
            body = b_body
            for (start, end, b_val), (_, _, a_val) in reversed(list(zip(code_numbers(b_body), a_nums))):
                if a_val > b_val:
                    body = body[:start] + f"{a_val:_}" + body[end:]
        else:
            differ.append(name)
            body = b_body
        out.append(b_text[last:m.start(4)])
        out.append(body)
        last = m.end(4)
    out.append(b_text[last:])
    if len(a_fns) != len(set(seen)) or any(len(v) != seen.get(k, 0) for k, v in a_fns.items()):
        differ.append("(the two runs have different functions)")
    return "".join(out), differ


if __name__ == "__main__":
    a, b = (open(p).read() for p in sys.argv[1:3])
    merged, differ = merge(a, b)
    if differ:
        sys.exit("formulas of different shape, merge by hand: " + ", ".join(sorted(set(differ))))
    sys.stdout.write(merged)
