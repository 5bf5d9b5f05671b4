#!/usr/bin/env python3
"""Merges runs of `benchmark pallet` for one pallet, term by term.

    benchmarking/merge-weights.py median RUN_A.rs RUN_B.rs RUN_C.rs > pallets/<p>/src/weights.rs
    benchmarking/merge-weights.py max RUN_A.rs RUN_B.rs [...] > pallets/<p>/src/weights.rs

This VM's timings spread by up to 2x between runs minutes apart on the same binary (session
26: lending's `repay_debt` 105 vs 209 us). Each weight function's formula is merged number by
number (the base, each component's slope, the proof sizes, the reads and writes):

- `median` (the rule since session 30, agreed before its runs): three runs, each number the
  middle of the three. One run spoiled by the VM's neighbours moves no number (session 29's
  max of two kept run 2's `validate_settle_batch` base of 1,088 us against 34 and a check
  run's 102-218); a number two runs of three agree on is kept.
- `max` (sessions 27-29): each number the largest of the runs'; a formula at least every
  run's everywhere in its range.

Counts of reads and writes are the largest of the runs' in either mode: a count is not a
timing, and a run that counted one more saw a path the others did not.

Where the formulas differ in shape (a term one run has and another has not) no choice is safe
everywhere: the script names those functions and exits with an error, to be merged by hand
(none had so far). Comments (the measured proof summary, the minimum execution time, the
storage list) are the last run's.
"""

import re
import sys

FN = re.compile(r"(\tfn (\w+)\(([^)]*)\) -> Weight \{\n)(.*?)(\n\t\})", re.S)
NUM = re.compile(r"(?<![\w.])(\d[\d_]*)(_u64)?(?![\w])")


def code_numbers(body):
    """The numbers of the formula (not of comments), with where they are and whether they
    count storage accesses (a `reads(..)` or `writes(..)` term)."""
    out = []
    offset = 0
    for line in body.split("\n"):
        if not line.strip().startswith("//"):
            db = ".reads(" in line or ".writes(" in line
            for m in NUM.finditer(line):
                out.append((offset + m.start(1), offset + m.end(1), int(m.group(1).replace("_", "")), db))
        offset += len(line) + 1
    return out


def shape(body):
    lines = [l for l in body.split("\n") if not l.strip().startswith("//")]
    return [NUM.sub("#", l) for l in lines]


def pick(mode, values):
    if mode == "max":
        return max(values)
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def merge(mode, texts):
    """Merges `texts` (runs) into the last one's layout; returns it and the functions whose
    formulas differ in shape."""
    *others, last_text = texts
    others_fns = []
    for text in others:
        fns = {}
        for m in FN.finditer(text):
            fns.setdefault(m.group(2), []).append(m.group(4))
        others_fns.append(fns)
    seen = {}
    differ = []
    out = []
    last = 0
    for m in FN.finditer(last_text):
        name = m.group(2)
        i = seen.get(name, 0)
        seen[name] = i + 1
        body = m.group(4)
        bodies = [(fns.get(name) or [])[i] if i < len(fns.get(name) or []) else None for fns in others_fns]
        if any(b is None for b in bodies):
            differ.append(name)
        elif any(shape(b) != shape(body) for b in bodies):
            differ.append(name)
        else:
            columns = [code_numbers(b) for b in bodies]
            merged = body
            for j, (start, end, value, db) in reversed(list(enumerate(code_numbers(body)))):
                # A count of storage accesses is not a timing: the largest, whatever the mode
                # (a run that counted one more read saw a path the others did not).
                chosen = pick("max" if db else mode, [value] + [c[j][2] for c in columns])
                if chosen != value:
                    merged = merged[:start] + f"{chosen:_}" + merged[end:]
            body = merged
        out.append(last_text[last:m.start(4)])
        out.append(body)
        last = m.end(4)
    out.append(last_text[last:])
    for fns in others_fns:
        if len(fns) != len(set(seen)) or any(len(v) != seen.get(k, 0) for k, v in fns.items()):
            differ.append("(the runs have different functions)")
    return "".join(out), differ


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("median", "max"):
        sys.exit(__doc__)
    mode, paths = sys.argv[1], sys.argv[2:]
    if mode == "median" and len(paths) != 3:
        sys.exit("median merges exactly three runs")
    if mode == "max" and len(paths) < 2:
        sys.exit("max merges two runs or more")
    merged, differ = merge(mode, [open(p).read() for p in paths])
    if differ:
        sys.exit("formulas of different shape, merge by hand: " + ", ".join(sorted(set(differ))))
    sys.stdout.write(merged)
