#!/usr/bin/env python3
"""fuzz/seed.py: build the seed corpora in fuzz/corpus/<target>/ from the docs.

Every request payload of README.md and docs/*.md (the JSON in ```json blocks
and in the bridge's subject/payload table, under the heading that names its
op), every subject they use, the config file example, and the nats-config
examples.  Each seed is a file named by the SHA-1 of its content, as
libFuzzer names its own.  Run it again after the docs change:

    python3 fuzz/seed.py
"""
import glob
import hashlib
import json
import os
import re
import sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(top, "fuzz", "corpus")
OPS_KV = "set get delete list incr mget mset count exists expire ttl all clear collections drop".split()
OPS_ROW = "define describe tables drop_table insert insert_many upsert select search aggregate update delete".split()


def docs():
    for path in [os.path.join(top, "README.md")] + sorted(glob.glob(os.path.join(top, "docs", "*.md"))):
        with open(path, encoding="utf-8") as f:
            yield os.path.basename(path), f.read()


def requests():
    """(tier, op, payload) for every request in a json block or a table row"""
    found = []
    for name, text in docs():
        tier = "row" if name == "row.md" else "kv"
        op = None
        block = None
        for line in text.splitlines():
            m = re.match(r"^#{2,4} `?([a-z_]+)`?", line)
            if m and block is None:
                op = m.group(1)
            if line.startswith("```"):
                if block is None and line.strip() == "```json":
                    block = []
                elif block is not None:
                    found += [(tier, op, p) for p in chunks(block)]
                    block = None
                continue
            if block is not None:
                block.append(line)
            for subject, payload in re.findall(r"\| `(db\.[a-z_.-]+)` \| `(\{.*?\})`", line):
                parts = subject.split(".")
                found.append((parts[1], parts[3] if len(parts) > 3 else "", payload))
    return [(t, o, p) for t, o, p in found if parses(p)]


def chunks(lines):
    """Split a json block into requests: a '{' at column 0 starts one, '→' ends it"""
    cur = None
    for line in lines:
        if line.startswith("{"):
            if cur is not None:
                yield "\n".join(cur)
            cur = [line]
        elif line.startswith("→") or line.strip() == "":
            if cur is not None:
                yield "\n".join(cur)
            cur = None
        elif cur is not None and line.startswith(" "):
            cur.append(line)
    if cur is not None:
        yield "\n".join(cur)


def parses(text):
    try:
        d = json.loads(text)
    except ValueError:
        return False
    # replies and log lines share the json blocks: leave them out
    return isinstance(d, dict) and not ({"error", "ts"} & set(d))


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def main():
    reqs = requests()
    if len(reqs) < 20:
        sys.exit("seed.py: found only %d requests in the docs" % len(reqs))
    subjects = set()
    for tier, op, payload in reqs:
        if tier == "kv" and op not in OPS_KV:
            op = "get"
        if tier == "row" and op not in OPS_ROW:
            op = "search"
        subject = "db.%s.quote-db.%s" % (tier, op) if tier != "migrate" else "db.migrate.quote-db"
        subjects.add(subject)
        compact = json.dumps(json.loads(payload), separators=(",", ":"))
        write("handler", b"\x40" + subject.encode() + b"\n" + compact.encode())
        # the extension's fuzzer (fuzz/sql_fuzz.py) takes tier, op, request
        write("sql", json.dumps({"tier": tier, "op": op, "request": json.loads(payload)}))
    subjects |= {"db.sql.quote-db.query", "db.migrate.quote-db", "db.kv.trivia.get",
                 "db.kv.llm_2.incr", "db.row.a.search", "db.kv.quote-db", "db.kv.Quote-DB.get",
                 "db.kv.quote-db.get.extra", "db.sql.quote-db.select", "db", "db.nosuch.x.get"}
    for s in subjects:
        write("subject", s)
        write("handler", b"\x10" + s.encode() + b"\n")
    with open(os.path.join(top, "bridge", "plugin-storage-bridge.conf.example"), encoding="utf-8") as f:
        example = f.read()
    write("config", example)
    write("config", 'conninfo = "host=/tmp dbname=x \\"quoted\\" \\\\"\nlog_level = debug\n')
    write("config", "pool_size = 8\npipeline_depth=64\ngroup_commit = off\nrequest_timeout_ms = 100\n")
    for args in (["--bridge-password", "change-me-bridge", "quote-db:pw-quote-db", "trivia:pw-trivia"],
                 ["--bridge-user", "bridge", "--bridge-password", "pw-bridge", "--operator-user", "ops",
                  "--operator-password", "pw-ops", "quote-db:pw-quote-db", "trivia:pw-trivia"],
                 ["--shared-inbox", "--bridge-password", "x", "a:b"],
                 ["--bridge-password", "x", "Bad!:pw"],
                 ["--help"]):
        write("natsconf", "\0".join(args))
    print("seed.py: %d requests, %d subjects" % (len(reqs), len(subjects)))


main()
