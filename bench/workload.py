# Allocation-heavy python3 workload for bench/run (run with
# PYTHONMALLOC=malloc so every object comes from the allocator under test).
# Usage: python3 workload.py SCALE; prints a digest of what it computed.
import hashlib
import json
import sys

scale = int(sys.argv[1]) if len(sys.argv) > 1 else 10
digest = hashlib.sha256()

for rnd in range(scale):
    # records: dicts of strings, ints, tuples and lists
    recs = []
    for i in range(20000):
        recs.append({
            "id": i,
            "name": "user-%d-%d" % (rnd, i * 7919 % 10007),
            "tags": ["t%d" % (i % k) for k in (3, 5, 7, 11)],
            "pos": (i % 97, i % 89, float(i) / 3.0),
        })
    # group by, sort, join
    groups = {}
    for r in recs:
        groups.setdefault(r["name"][-2:], []).append(r)
    keys = sorted(groups, key=lambda k: (-len(groups[k]), k))
    line = ",".join("%s:%d" % (k, len(groups[k])) for k in keys[:50])
    digest.update(line.encode())
    # json round trip
    blob = json.dumps(recs[::7], sort_keys=True)
    back = json.loads(blob)
    digest.update(str(len(blob)).encode() + str(back[-1]["pos"]).encode())
    # strings: split, replace, join
    words = blob.replace('"', " ").split()
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    digest.update(repr(top).encode())
    # sets and a churning live set
    live = {}
    for i in range(60000):
        k = (i * 2654435761) % 5003
        if k in live:
            del live[k]
        else:
            live[k] = [k] * (k % 16) + [str(k)]
    digest.update(str(sum(len(v) for v in live.values())).encode())
    del recs, groups, back, words, counts, live

print(digest.hexdigest())
