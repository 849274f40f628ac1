"""test_wa_node_tool - the wa-node debug tool round-trips every vector.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

For each case of tests/vectors/wa/binary-nodes.json: `wa-node decode` of
the encoded hex gives text, and `wa-node encode` of that text gives the
same bytes back. Decode-only cases (FB/interop JIDs, zlib) must survive
decode -> encode -> decode with identical text. Bad input exits 1 with a
reason on stderr, bad usage exits 64, --help documents both commands.
"""
import json
import os
import subprocess
import sys

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                  "..", "..")))
BIN = os.environ.get("WHARF_BIN_DIR", os.path.join(SRC, "build-asan", "bin"))
TOOL = os.path.join(BIN, "wa-node")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:",
                   "ERROR: LeakSanitizer")


def run(args, stdin):
    p = subprocess.run([TOOL] + args, input=stdin.encode(),
                       capture_output=True, timeout=60)
    err = p.stderr.decode(errors="replace")
    for mark in SANITIZER_MARKS:
        if mark in err:
            sys.exit(f"sanitizer report from wa-node {args}:\n{err}")
    return p.returncode, p.stdout.decode(), err


def check(cond, msg):
    if not cond:
        sys.exit("FAIL: " + msg)


def main():
    with open(os.path.join(SRC, "tests", "vectors", "wa",
                           "binary-nodes.json")) as f:
        vectors = json.load(f)

    for case in vectors["cases"]:
        rc, text, err = run(["decode"], case["encoded_hex"])
        check(rc == 0, f"{case['name']}: decode failed: {err}")
        rc, hexout, err = run(["encode"], text)
        check(rc == 0, f"{case['name']}: encode failed: {err}")
        check(hexout.strip() == case["encoded_hex"],
              f"{case['name']}: re-encoded {hexout.strip()}")
        # --raw drops the flag byte on both sides
        rc, raw_text, err = run(["decode", "--raw"], case["encoded_hex"][2:])
        check(rc == 0 and raw_text == text, f"{case['name']}: --raw decode")
        rc, raw_hex, err = run(["encode", "--raw"], text)
        check(rc == 0 and raw_hex.strip() == case["encoded_hex"][2:],
              f"{case['name']}: --raw encode")

    for case in vectors["decode_only"]:
        rc, text, err = run(["decode"], case["encoded_hex"])
        check(rc == 0, f"{case['name']}: decode failed: {err}")
        for key, value in case["decodes_to"]["attrs"].items():
            check(f'{key}="{value}"' in text,
                  f"{case['name']}: {key}={value} not in {text}")
        rc, hexout, err = run(["encode"], text)
        check(rc == 0, f"{case['name']}: encode failed: {err}")
        rc, again, err = run(["decode"], hexout)
        check(rc == 0 and again == text, f"{case['name']}: text changed")

    # Hand-written text with every content kind
    text = ('<iq id="1" to="15551234567:3@s.whatsapp.net" type="set">\n'
            '  <enc v="2">0x00ff</enc>\n  <name>Hello &amp; bye</name>\n'
            '  <subject>"120363012345678901@g.us"</subject>\n'
            '  <list></list>\n</iq>\n')
    rc, hexout, err = run(["encode"], text)
    check(rc == 0, f"hand-written encode failed: {err}")
    check("f7000" in hexout, f"device JID not AD_JID: {hexout}")
    rc, again, err = run(["decode"], "0x " + hexout)
    check(rc == 0 and again == text, f"hand-written text changed: {again}")
    rc, cut, err = run(["decode", "--max-bytes", "1"], hexout)
    check(rc == 0 and "0x00...(1 more bytes)" in cut, f"--max-bytes: {cut}")

    # Bad input and usage
    for bad, reason in (("00f8", "could not decode node"),
                        ("zz", "bad hex digit"),
                        ("00f", "odd number"),
                        ("", "could not decode node"),
                        ("00f8021ffeffffffff00", "longer than the limit")):
        rc, out, err = run(["decode"], bad)
        check(rc == 1 and reason in err, f"decode {bad!r}: {rc} {err}")
    rc, out, err = run(["encode"], "<a><b></a>")
    check(rc == 1 and "could not parse text: line 1" in err, f"encode: {err}")
    for args in ([], ["bogus"], ["decode", "--max-bytes", "x"],
                 ["encode", "--nope"]):
        rc, out, err = run(args, "")
        check(rc == 64, f"usage {args}: {rc}")
    rc, out, err = run(["--help"], "")
    check(rc == 0 and "wa-node decode" in out and "wa-node encode" in out
          and "&#xHH;" in out, "--help text")
    print("wa-node tool: %d vectors, %d decode-only OK" %
          (len(vectors["cases"]), len(vectors["decode_only"])))


if __name__ == "__main__":
    main()
