# ruff: noqa
# Review 35: two drive.py result files of the same attacks and hosts side by side (old, new):
# per run, what differs in selected / marked / lost / innocents marked.
#   python bench/probe29/review35/compare35.py OLD.jsonl NEW.jsonl
import json, sys
from collections import Counter


def rows(f):
    return {(r["id"], r["host"]): r for r in map(json.loads, open(f))}


old, new = rows(sys.argv[1]), rows(sys.argv[2])
tot = Counter()
for k in sorted(set(old) & set(new)):
    o, n = old[k], new[k]
    for name, r in (("old", o), ("new", n)):
        tot[name + "_sel"] += r["selected"]
        tot[name + "_marked"] += r["marked"]
        tot[name + "_lost"] += len(r["lost"])
        tot[name + "_moved"] += len(r["others_moved"])
        tot[name + "_innocents"] += len(r["innocents_marked"])
        tot[name + "_share"] += r["check_share"]
    diff = [
        f
        for f in ("selected", "marked", "lost", "others_moved", "innocents_marked")
        if o[f] != n[f]
    ]
    if diff:
        print(k, {f: (o[f], n[f]) for f in diff})
print(
    f"runs compared: {len(set(old) & set(new))} (old only {len(set(old) - set(new))}, new only {len(set(new) - set(old))})"
)
print({k: round(v, 1) for k, v in sorted(tot.items())})
