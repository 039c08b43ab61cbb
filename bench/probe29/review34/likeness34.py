# ruff: noqa
# Review 34: how rater-like (scoring/pipeline/rater_parts.py rater_likeness) each new wording reads
# planted at the end of real 2025-05-28 abstracts; settle rule needs every part < CORE_LIKENESS.
#   PYTHONPATH=. python bench/probe29/review34/likeness34.py
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import bench.attacks as A
from scoring.pipeline.rater_parts import CORE_LIKENESS, common_words, parts_of, rater_likeness

sys.path.append(str(Path(__file__).resolve().parent))
from words34 import W34

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "arxiv"
papers = A.day_papers(DATA, "2025-05-28")
common = common_words(papers)
hosts = [p for p in papers if len(p.abstract) > 400][::60][:8]
for wid, (_, _, s, _) in W34.items():
    tops = []
    for h in hosts:
        p = h.model_copy(update={"abstract": h.abstract + " " + s})
        like = rater_likeness(parts_of(p), common)
        tops.append(round(like[-1], 2))
    under = sum(x < CORE_LIKENESS for x in tops)
    print(f"{wid}: planted part likeness {tops}  under {CORE_LIKENESS}: {under}/{len(tops)}")
