#!/usr/bin/python3
"""Check a Prometheus scrape of plugin-storage-bridge with the reference parser.

    prom_check.py SCRAPE 'NAME{label="v",...}=VALUE' ...

Parses SCRAPE (text exposition format 0.0.4) with prometheus_client's own
parser, which refuses malformed lines, then checks: every family the bridge
documents is there with its type; every histogram series is cumulative and
ends with +Inf == _count == the requests_total of the same labels; and each
NAME{labels}=VALUE argument names a sample with exactly that value. Prints
"ok - ..." / "not ok - ..." lines and "# phase prom passed=N failed=M".
"""
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

P = "plugin_storage_bridge_"
FAMILIES = {
    "requests": "counter",
    "errors": "counter",
    "request_duration_seconds": "histogram",
    "info": "gauge",
    "uptime_seconds": "gauge",
    "received": "counter",
    "dropped_no_reply": "counter",
    "reply_failed": "counter",
    "batches": "counter",
    "pipelined": "counter",
    "group_commits": "counter",
    "group_rollbacks": "counter",
    "connects": "counter",
    "connections": "gauge",
    "events": "counter",
    "events_dropped": "counter",
    "tracked_plugins": "gauge",
    "max_plugins": "gauge",
}
passed = failed = 0


def check(ok, what, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - prom: {what}")
    else:
        failed += 1
        print(f"not ok - prom: {what}: {why}")


def key(labels, drop=()):
    return tuple(sorted((k, v) for k, v in labels.items() if k not in drop))


text = open(sys.argv[1], encoding="utf-8").read()
try:
    families = {f.name: f for f in text_string_to_metric_families(text)}
    check(True, "the scrape parses with prometheus_client's parser")
except Exception as e:  # the parser raises ValueError and others
    check(False, "the scrape parses with prometheus_client's parser", repr(e))
    print(f"# phase prom passed={passed} failed={failed}")
    sys.exit(1)

for name, kind in FAMILIES.items():
    f = families.get(P + name)
    check(f is not None and f.type == kind, f"family {P}{name} is a {kind}",
          f"got {f.type if f else 'nothing'}")

samples = {}
for f in families.values():
    for s in f.samples:
        samples[(s.name, key(s.labels))] = s.value

requests = {k[1]: v for k, v in samples.items() if k[0] == P + "requests_total"}
buckets = {}
for (name, labels), v in samples.items():
    if name == P + "request_duration_seconds_bucket":
        le = dict(labels)["le"]
        buckets.setdefault(key(dict(labels), ("le",)), []).append(
            (float(le), v))
bad = []
for labels, series in buckets.items():
    series.sort()
    values = [v for _, v in series]
    count = samples.get((P + "request_duration_seconds_count", labels))
    if (len(series) != 14 or series[-1][0] != float("inf")
            or values != sorted(values) or values[-1] != count
            or requests.get(labels) != count):
        bad.append(dict(labels))
check(buckets and not bad,
      f"all {len(buckets)} histograms are cumulative, +Inf == _count == "
      "requests_total", f"bad: {bad[:3]}")

pattern = re.compile(r'^([a-z_]+)\{(.*)\}=(.+)$')
for arg in sys.argv[2:]:
    m = pattern.match(arg)
    labels = dict(re.findall(r'([a-z_]+)="([^"]*)"', m.group(2)))
    got = samples.get((m.group(1), key(labels)))
    check(got == float(m.group(3)), arg, f"got {got}")

print(f"# phase prom passed={passed} failed={failed}")
sys.exit(1 if failed else 0)
