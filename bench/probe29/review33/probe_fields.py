# ruff: noqa
# Review 33 of issue 29's foreign round. From the repository root:
#   PYTHONPATH=. python bench/probe29/review33/probe_fields.py
"""How often does decoy.foreign_criteria's word-overlap rule find a field sharing no word with
the papers it rates, and which words make the fields overlap? Over the 39 real days: each
day's reference selections (labels with a relevance; what the checks look at on a day, about),
and random sets of 10 and 30 papers of the day. Also: real abstracts that are *about* a field
(topic words), and whether the rule keeps that field away from them."""

import json, random, re, collections
from pathlib import Path
from bench.attacks import day_papers
from scoring.pipeline.foreign_fields import FIELDS, foreign_field  # (was decoy.foreign_criteria)

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "arxiv"
DAYS = [r["date"] for r in json.loads((DATA / "days.json").read_text())]
fw = {f.id: f for f in FIELDS}
TOPIC = {  # words that make an abstract *about* the field (not a shared generic word)
    "reef-ecology": r"\b(coral|reefs?|fish(es|eries)?|marine|ocean\w*|underwater)\b",
    "manuscripts": r"\b(manuscripts?|palaeograph\w*|paleograph\w*|historical documents?|handwrit\w*|medieval)\b",
    "dairy": r"\b(dairy|cattle|cows?|livestock|milk)\b",
    "volcanoes": r"\b(volcan\w*|eruptions?|magma|seismic\w*|earthquakes?)\b",
    "baroque": r"\b(music\w*|baroque|symbolic music|melod\w*|songs?)\b",
    "fungi": r"\b(fung\w*|forests?|soils?|mycorrhiz\w*)\b",
    "admiralty": r"\b(maritime|ships?|vessels?|legal|law|courts?)\b",
    "glaciers": r"\b(glaciers?|ice|snow|cryosph\w*|climate)\b",
}


def overlap(ps):  # the fields some paper of ps touches (its topic words), and which papers
    return {
        fid: [p.id for p in ps if f.touches(p)]
        for fid, f in fw.items()
        if any(f.touches(p) for p in ps)
    }


sel_all = collections.Counter()
fallback = collections.Counter()
culprits = collections.Counter()
about = collections.Counter()
about_chosen = collections.Counter()
rng = random.Random(0)
n_days = 0
for day in DAYS:
    papers = day_papers(DATA, day)
    byid = {p.id: p for p in papers}
    labels = [json.loads(l) for l in open(DATA / "labels" / f"{day}.jsonl")]
    sel = [byid[r["id"]] for r in labels if "relevance" in r and r["id"] in byid]
    n_days += 1
    for name, ps in (
        ("selections", sel),
        ("random10", rng.sample(papers, 10)),
        ("random30", rng.sample(papers, 30)),
    ):
        ov = overlap(ps)
        sel_all[(name, len(ov))] += 1
        if len(ov) == len(fw):
            fallback[name] += 1
        for fid, ws in ov.items():
            culprits[fid] += 1
    # papers about a field, rated beside the day's selections: is that field kept away?
    for p in papers:
        text = f"{p.title} {p.abstract}".lower()
        for fid, pat in TOPIC.items():
            if re.search(pat, text):
                about[fid] += 1
                for k in range(5):
                    got, touched = foreign_field([*sel[:12], p], bytes([k]))
                    about_chosen[fid] += got.id == fid and p.id not in touched  # rated under it
print(f"{n_days} days")
for name in ("selections", "random10", "random30"):
    dist = {k[1]: v for k, v in sorted(sel_all.items()) if k[0] == name}
    print(
        f"{name}: fields overlapping -> days {dist}; all fields touched (fallback to the keyed last field) on {fallback[name]} days"
    )
print("fields touched (count over sets):", culprits.most_common(25))
print("papers about each field (topic words) over the 39 days:", dict(about))
print(
    "times (x5 keys) the field a paper is about was still chosen when rated beside 12 selections:",
    dict(about_chosen),
)

# examples: papers whose title is about a field that the rule still picks for them
SHOW = {
    "admiralty": r"\b(legal|law|maritime|ship\w*)\b",
    "glaciers": r"\b(climate|ice|glacier\w*|snow)\b",
    "reef-ecology": r"\b(coral|reef|marine|ocean\w*|underwater|fish)\b",
    "manuscripts": r"\b(manuscripts?|handwrit\w*|historical documents?)\b",
}
for fid, pat in SHOW.items():
    shown = 0
    for day in DAYS[::3]:
        for p in day_papers(DATA, day):
            if shown < 3 and re.search(pat, p.title.lower()):
                keys = sum(
                    (c := foreign_field([p], bytes([k])))[0].id == fid and p.id not in c[1]
                    for k in range(20)
                )
                if keys:
                    print(f"  {fid}: chosen for it under {keys}/20 keys: {p.id} {p.title[:90]!r}")
                    shown += 1
