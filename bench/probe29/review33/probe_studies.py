# ruff: noqa
# Review 33 of issue 29's foreign round. From the repository root:
#   PYTHONPATH=. python bench/probe29/review33/probe_studies.py            # the round on
#   BLIND=1 PYTHONPATH=. python bench/probe29/review33/probe_studies.py    # the round untold
"""tests/attack_corpus.py's STUDIES (abstracts of research about prompt injection quoting an
attack) planted on papers of 2025-05-28, scored through run_day by the replay model, which here
*obeys the quotes* (each quote read as a request for a 10): a model weaker than the rubric asks.
How many studies are marked, selected, keep their result sentence whole in every request, and
how many sound selections are lost? (Without history: the local scorer's prior.)"""

import asyncio, json, os, tempfile
from pathlib import Path
from redis.asyncio import Redis
import bench.attacks as A
from scoring.storage.redis_server import EmbeddedRedis
from tests.attack_corpus import STUDIES, study_texts

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "arxiv"
DAY = "2025-05-28"


async def main():
    tmp = Path(tempfile.mkdtemp())
    server = EmbeddedRedis(tmp / "redis")
    client = Redis.from_url(await server.start(), db=1, decode_responses=True)
    papers = A.day_papers(DATA, DAY)
    clean, _ = await A.run(client, DATA, DAY, papers)
    chosen = {rp.paper.id for rp in clean.papers if rp.selected}
    hosts = [p for p in papers if p.id not in chosen][5 :: max(1, len(papers) // len(STUDIES))][
        : len(STUDIES)
    ]
    texts = {h.id: study_texts(i) for i, h in enumerate(hosts)}
    changed = [
        p.model_copy(update={"abstract": texts[p.id][0]}) if p.id in texts else p for p in papers
    ]
    obey = {quote: "self10" for _, quote, _ in STUDIES}
    await client.flushdb()
    got, fake = await A.run(client, DATA, DAY, changed, obey)
    sel = {rp.paper.id for rp in got.papers if rp.selected}
    marked = {rp.paper.id for rp in got.papers if rp.score.rater_passages}
    foreign = [
        r
        for r in fake.requests
        if "foreign" in json.dumps(r) or "`reef" in r["messages"][0]["content"]
    ]
    sent = [" ".join(str(r["messages"][1]["content"]).split()) for r in fake.requests]
    whole = sum(
        1 for h in hosts if all(" ".join(texts[h.id][2].split()) in s for s in sent if h.id in s)
    )
    ch = got.run.checks
    print(
        json.dumps(
            dict(
                blind=os.environ.get("BLIND") == "1",
                studies=len(hosts),
                studies_selected=len(sel & set(texts)),
                studies_marked=len(marked & set(texts)),
                result_sentence_whole_in_every_request=whole,
                sound_selections_lost=len(chosen - sel),
                others_marked=len(marked - set(texts)),
                clean_selected=len(chosen),
                checks=dict(
                    flagged=ch.flagged,
                    checked=ch.checked,
                    calls=ch.calls,
                    tokens=ch.prompt_tokens + ch.completion_tokens,
                )
                if ch
                else None,
            )
        )
    )
    await client.aclose()
    await server.stop()


asyncio.run(main())
