#!/usr/bin/env python3
"""Check docs/spec-coverage.md against the gateway's route table.

    python3 scripts/spec_coverage.py <api-gateway binary> [doc]

Reads the operation tables of the doc (rows "| name | `METHOD /path`... |
`METHOD /v2/...`... | status | tests |"), takes the route table from
`api-gateway --openapi`, and fails (exit 1) when:
  - a route of a row marked "done" is not in the route table;
  - the "Operations done: N / M (partial: P, missing: Q)" line does not
    match the rows;
and warns (exit 0) when a row not marked "done" has all its routes served
(a stale row: update it and the counts; only a warning, so that a route
landed by someone else does not turn main red).
Prints the counts and each problem. Path parameters match by position only
({session} and {id} are the same).
"""
import json
import os
import re
import subprocess
import sys

ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`]*)`")
COUNTS = re.compile(
    r"\*\*Operations done: (\d+) / (\d+)\*\* \(partial: (\d+), missing: (\d+)\)"
)


def norm(method, path):
    return (method, re.sub(r"\{[^}]+\}", "{}", path))


def served_routes(binary):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    out = subprocess.run(
        [binary, "--openapi"], check=True, capture_output=True, env=env, timeout=60
    ).stdout
    doc = json.loads(out)
    routes = set()
    for path, ops in doc["paths"].items():
        for method in ops:
            if method in ("get", "post", "put", "patch", "delete"):
                routes.add(norm(method.upper(), path))
    return routes


def rows(text):
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("Operation", "---"):
            continue
        routes = ROUTE.findall(cells[1]) + ROUTE.findall(cells[2])
        if not routes:
            continue
        yield cells[0], routes, cells[3]


def main():
    if len(sys.argv) < 2:
        print("usage: spec_coverage.py <api-gateway> [docs/spec-coverage.md]")
        return 2
    here = os.path.dirname(os.path.abspath(__file__))
    doc = (
        sys.argv[2]
        if len(sys.argv) > 2
        else os.path.join(here, "..", "docs", "spec-coverage.md")
    )
    text = open(doc, encoding="utf-8").read()
    served = served_routes(sys.argv[1])
    problems = []
    done = partial = missing = 0
    for name, routes, status in rows(text):
        have = [r for r in routes if norm(*r) in served]
        if status == "done":
            done += 1
            for m, p in routes:
                if norm(m, p) not in served:
                    problems.append(f"{name}: done, but {m} {p} is not routed")
        else:
            if status.startswith("missing"):
                missing += 1
            else:
                partial += 1
            if len(have) == len(routes):
                print(f"WARN {name}: marked {status!r}, but all its routes "
                      "are served: update the row and the counts")
    total = done + partial + missing
    print(f"operations: {done} done / {total} (partial {partial}, missing {missing})")
    m = COUNTS.search(text)
    if not m:
        problems.append("no 'Operations done: N / M (partial: P, missing: Q)' line")
    elif tuple(map(int, m.groups())) != (done, total, partial, missing):
        problems.append(
            "counts line says %s / %s (partial %s, missing %s)" % m.groups()
            + f", rows give {done} / {total} (partial {partial}, missing {missing})"
        )
    for p in problems:
        print("FAIL", p)
    print("spec_coverage: " + ("stale" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
