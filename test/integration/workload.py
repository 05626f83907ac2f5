# workload.py - an allocation-heavy Python program with deterministic
# output, for the integration suite (run with PYTHONMALLOC=malloc so that
# every object comes from malloc): dicts, lists, strings, a JSON round
# trip of ~200k objects, sorting and set churn.
import hashlib
import json

N = 200_000


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


records = []
for i in range(N):
    records.append({
        "id": i,
        "name": "user%d" % (i * 7919 % 100_003),
        "tags": [str(i % 7), "t%d" % (i % 13)],
        "score": (i * 37 % 1000) / 10.0,
        "nested": {"a": i % 3, "b": i % 2 == 0},
    })

text = json.dumps(records, sort_keys=True)
back = json.loads(text)
assert back == records, "JSON round trip changed the data"
print("json:", len(text), digest(text))

by_name = {}
for r in back:
    by_name.setdefault(r["name"], []).append(r["id"])
print("names:", len(by_name), sum(len(v) for v in by_name.values()),
      max(len(v) for v in by_name.values()))

# string churn: build, slice, join, split
words = [r["name"] * (r["id"] % 5 + 1) for r in back]
words.sort()
joined = "\n".join(words)
pieces = joined.split("user1")
print("strings:", len(joined), len(pieces), digest(joined))

# dict churn: insert, delete, reinsert
d = {}
for i in range(N // 2):
    d[("k", i % 50_000, i % 7)] = [i] * (i % 4)
    if i % 3 == 0:
        d.pop(("k", (i // 2) % 50_000, (i // 2) % 7), None)
print("dict:", len(d), sum(len(v) for v in d.values()))

# sets and sorting of tuples
s = {(r["id"] % 1000, r["nested"]["a"], r["tags"][1]) for r in back}
ordered = sorted(s)
print("set:", len(s), ordered[0], ordered[-1])

# big lists grown and shrunk
acc = []
for i in range(30):
    acc.extend(range(i * 10_000))
    del acc[: len(acc) // 2]
print("list:", len(acc), sum(acc) % 1_000_000_007)

del records, back, by_name, words, joined, pieces, d, s, ordered, acc
print("done")
