#!/usr/bin/python3
"""check_extract.py - an independent reading of crier's extraction files.

The cases below are the inputs: a format and rows of values (None for SQL NULL). extract_samples
(C, cr_extract_*) writes each as a file; this script reads it back with Python's own modules
(gzip, codecs, csv with strict=True) and checks that a consumer sees exactly the rows that went
in: labels, values with separators, quotes and line breaks, Unicode, leading and trailing
blanks, empty and NULL (both read as ''), the BOM, the byte encoding, the line endings, the
fixed-width layout, and the writer's row and byte counters.

Usage: check_extract.py EXTRACT_SAMPLES_BINARY WORKDIR
"""
import codecs
import csv
import gzip
import io
import json
import os
import random
import shutil
import subprocess
import sys

TRICKY = [
    "plain", "", None, "a,b", "a;b", "a\tb", "a|b", 'say "hi"', '"', '""', "it's", "'q'",
    "line\nbreak", "cr\ronly", "crlf\r\nend", "\n", "\r\n", " lead", "trail ", " both ",
    "\ttab", " ", "Zoë", "Ærøskøbing", "日本語", "😀 emoji", "e\u0301 combining",
    "\u00a0nbsp", "\ufeffzero width no-break space first", "mixed, \"all\"\r\n; of|it\t",
    "x" * 3000, "=1+2", "#", "\\back\\slash",
]
LATIN1 = ["Zoë", "Besançon", "Straße", "£ ¥ © ® ° ± µ ¶ · ¿ × ÷", "\u00a0", "ÿ", "\x7f",
          "\x01ctl", "àéîõü ÀÉÎÕÜ"]
CP1252_SPECIALS = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"


def tricky_rows(ncols, seed, count):
    rnd = random.Random(seed)
    pool = TRICKY
    return [[rnd.choice(pool) for _ in range(ncols)] for _ in range(count)]


def every_value_once(pool, ncols):
    """Rows that put each value of pool in each column at least once."""
    rows = []
    for i in range(len(pool)):
        rows.append([pool[(i + k) % len(pool)] for k in range(ncols)])
    return rows


LABELS4 = ["Name", "Note, with comma", 'Say "hi"', " padded label "]

CASES = [
    dict(name="default_utf8", format=dict(columns=[dict(label=l) for l in LABELS4]),
         rows=every_value_once(TRICKY, 4)),
    dict(name="semicolon_lf_bom",
         format=dict(separator=";", line_ending="lf", encoding="utf-8-bom",
                     columns=[dict(label=l) for l in LABELS4]),
         rows=every_value_once(TRICKY, 4)),
    dict(name="tab_single_quote",
         format=dict(separator="\t", quote="'", columns=[dict(label=l) for l in LABELS4]),
         rows=every_value_once(TRICKY, 4)),
    dict(name="pipe_all_no_header",
         format=dict(separator="|", quoting="all", header=False,
                     columns=[dict(label="a"), dict(label="b"), dict(label="c")]),
         rows=every_value_once([v for v in TRICKY if v is not None], 3)),
    dict(name="all_with_nulls",
         format=dict(quoting="all", columns=[dict(label="a"), dict(label="b")]),
         rows=[["x", None], [None, ""], ["", "y"]]),
    dict(name="latin1",
         format=dict(encoding="iso-8859-1", columns=[dict(label="Prénom"), dict(label="Ville")]),
         rows=every_value_once(LATIN1 + ["a,b", 'q"q', "l\nl", None, ""], 2)),
    dict(name="cp1252",
         format=dict(encoding="windows-1252", line_ending="lf",
                     columns=[dict(label="Œuvre"), dict(label="Prix €")]),
         rows=[[CP1252_SPECIALS, "".join(CP1252_SPECIALS[::-1])]]
         + [[c, c + ", " + c] for c in CP1252_SPECIALS]
         + every_value_once(LATIN1 + ["“quoted”, and ‘single’"], 2)),
    dict(name="gzip_utf8",
         format=dict(gzip=True, columns=[dict(label=l) for l in LABELS4]),
         rows=tricky_rows(4, 1, 20000)),
    dict(name="gzip_cp1252_bom_free",
         format=dict(gzip=True, encoding="windows-1252", separator=";",
                     columns=[dict(label="A"), dict(label="B")]),
         rows=every_value_once(LATIN1 + list(CP1252_SPECIALS) + ["a;b", None], 2)),
    dict(name="single_column",
         format=dict(columns=[dict(label="Email")]),
         rows=[["a@x.fr"], [""], [None], ["b@y.de"], [" "]]),
    dict(name="fixed_utf8",
         format={"format": "fixed",
                 "columns": [dict(label="Name", width=12), dict(label="Amount", width=8,
                                                               align="right"),
                             dict(label="Code", width=4, align="left")]},
         rows=[["Zoë 😀", "12.50", "A"], [None, "3", ""], ["日本語", None, "abcd"],
               ["e\u0301", "  x", "\ttab"], ["exactly12chr", "12345678", "wxyz"],
               ["a, \"b\"", "-1", "; |"]]),
    dict(name="fixed_cp1252_gzip_lf",
         format={"format": "fixed", "encoding": "windows-1252", "gzip": True,
                 "line_ending": "lf", "header": False,
                 "columns": [dict(label="A", width=27), dict(label="B", width=3, align="right")]},
         rows=[[CP1252_SPECIALS, "€"], ["Zoë", None], ["", "ÿ"]] * 500),
]

PY_ENCODING = {"utf-8": "utf-8", "utf-8-bom": "utf-8", "iso-8859-1": "latin-1",
               "windows-1252": "cp1252"}


def fail(case, msg):
    print("FAIL %s: %s" % (case["name"], msg))
    return 1


def check_case(case, workdir):
    fmt = case["format"]
    path = os.path.join(workdir, case["name"] + ".out")
    with open(path, "rb") as f:
        raw = f.read()
    with open(os.path.join(workdir, case["name"] + ".counts")) as f:
        nrows, nbytes = (int(v) for v in f.read().split())
    if nrows != len(case["rows"]):
        return fail(case, "rows counter %d, want %d" % (nrows, len(case["rows"])))
    if nbytes != len(raw):
        return fail(case, "bytes counter %d, file has %d" % (nbytes, len(raw)))
    if fmt.get("gzip"):
        if raw[:2] != b"\x1f\x8b":
            return fail(case, "not gzip")
        raw = gzip.decompress(raw)
    enc = fmt.get("encoding", "utf-8")
    if enc == "utf-8-bom":
        if not raw.startswith(codecs.BOM_UTF8):
            return fail(case, "no BOM")
        raw = raw[3:]
    elif raw.startswith(codecs.BOM_UTF8):
        return fail(case, "unexpected BOM")
    text = raw.decode(PY_ENCODING[enc])  # strict: any stray byte fails here
    eol = "\n" if fmt.get("line_ending") == "lf" else "\r\n"
    if not text.endswith(eol):
        return fail(case, "the file does not end with the line ending")
    labels = [c["label"] for c in fmt["columns"]]
    want = ([labels] if fmt.get("header", True) else []) + [
        ["" if v is None else v for v in row] for row in case["rows"]]

    if fmt.get("format") == "fixed":
        lines = text[: -len(eol)].split(eol) if text else []
        widths = [c["width"] for c in fmt["columns"]]
        if len(lines) != len(want):
            return fail(case, "%d lines, want %d" % (len(lines), len(want)))
        for n, (line, row) in enumerate(zip(lines, want)):
            exp = "".join(v.rjust(w) if c.get("align") == "right" else v.ljust(w)
                          for v, w, c in zip(row, widths, fmt["columns"]))
            if line != exp:
                return fail(case, "line %d is %r, want %r" % (n + 1, line, exp))
            if len(line) != sum(widths):
                return fail(case, "line %d has %d characters" % (n + 1, len(line)))
        return 0

    if eol == "\n" and "\r" not in "".join(v for r in want for v in r) and "\r" in text:
        return fail(case, "CR in an LF file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.get("separator", ","),
                        quotechar=fmt.get("quote", '"'), doublequote=True, strict=True)
    got = list(reader)
    if got != want:
        for n, (g, w) in enumerate(zip(got, want)):
            if g != w:
                return fail(case, "record %d is %r, want %r" % (n + 1, g, w))
        return fail(case, "%d records, want %d" % (len(got), len(want)))
    if fmt.get("quoting") == "all" and not any(v is None for r in case["rows"] for v in r):
        # QUOTE_NONNUMERIC turns every unquoted field into a float (or fails): with every
        # field quoted, all stay the same strings
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.get("separator", ","),
                            quotechar=fmt.get("quote", '"'), strict=True,
                            quoting=csv.QUOTE_NONNUMERIC)
        if list(reader) != want:
            return fail(case, "a field is not quoted")
    return 0


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, workdir = sys.argv[1], sys.argv[2]
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    cases_path = os.path.join(workdir, "cases.json")
    with open(cases_path, "w") as f:
        json.dump(CASES, f)
    subprocess.run([binary, cases_path, workdir], check=True)
    failed = 0
    for case in CASES:
        failed += check_case(case, workdir)
    print("%d of %d extraction files read back as written" % (len(CASES) - failed, len(CASES)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
