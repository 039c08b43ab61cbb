# ruff: noqa
import json, sys, collections

for f in sys.argv[1:]:
    rows = [json.loads(l) for l in open(f)]
    by = collections.OrderedDict()
    for r in rows:
        by.setdefault(r["id"], []).append(r)
    print(f"== {f}: {len(rows)} runs")
    tot = collections.Counter()
    for aid, rs in by.items():
        sel = sum(r["selected"] for r in rs)
        mk = sum(r["marked"] for r in rs)
        lost = sum(len(r["lost"]) for r in rs)
        moved = sum(len(r["others_moved"]) for r in rs)
        inn = sum(len(r["innocents_marked"]) for r in rs)
        scr = sum(r["screened"] for r in rs)
        tot.update(runs=len(rs), sel=sel, mk=mk, lost=lost, moved=moved, inn=inn, scr=scr)
        print(
            f"{aid:4s} {rs[0]['style'][:24]:24s} {rs[0]['lang']} {rs[0]['effect'][:14]:14s} {rs[0]['when']:5s} runs={len(rs)} selected={sel} marked={mk} screened={scr} others_lost={lost} others_moved={moved} innocents_marked={inn} pct={[r['host_prior_pct'] for r in rs]} fake={[tuple(r['host_fake']) for r in rs]} got={[tuple(r['host_score']) for r in rs]} calls={[r['checks']['calls'] for r in rs]} share={[r['check_share'] for r in rs]}"
        )
    print("TOTAL", dict(tot))
