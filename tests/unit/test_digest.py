"""The Markdown digest against the format readers know: token totals, every author, the whole
prompt, and LaTeX as the authors wrote it, with untrusted text still unable to open links or
HTML."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from bot.render.digest import escape_md, render_markdown
from bot.render.text import others
from prompts import read_prompt
from scoring.domain.configs import ProfileRules
from scoring.domain.criteria import parse_criteria_markdown
from scoring.domain.models import CriteriaVersion, Day, Paper, RankedPaper, RunRecord, Score, Usage
from tests.conftest import Cli
from tests.feedgen import feed_rows, rss_feed

RULES = ProfileRules("default", ("cs.LG",), ("new",), 7, 5)
AUTHORS = [f"Author Number{i}" for i in range(9)]


def day(scorer: str = "gpt-4o") -> Day:
    items = parse_criteria_markdown(read_prompt("criteria.md"))
    now = dt.datetime.now(dt.UTC)
    criteria = CriteriaVersion(version=1, items=items, hash="abc", action="init", created_at=now)
    paper = Paper(
        id="2505.00001", title=r"Bounds in $\ell_1$ [click](javascript:alert(1)) <img src=x>",
        abstract=r"We show $\delta < \epsilon$ and $x_i^2$; see <script>alert(1)</script>.",
        authors=AUTHORS, categories=["cs.LG"], primary="cs.LG",
        announced_on=dt.date(2025, 5, 28),
    )  # fmt: skip
    score = Score(paper_id=paper.id, relevance=9, novelty=8, comment="Matches.", model=scorer,
                  criteria_hash="abc", prompt_hash="p", scored_at=now)  # fmt: skip
    usage = [
        Usage(model="gpt-4o", calls=3, prompt_tokens=1000, cached_tokens=200,
              completion_tokens=100, cost_usd=0.01),
        Usage(model="gpt-4o", mode="batch", calls=1, prompt_tokens=500, cached_tokens=0,
              completion_tokens=50, cost_usd=0.002),
    ]  # fmt: skip
    run = RunRecord(profile="default", date=dt.date(2025, 5, 28), status="ok", scorer=scorer,
                    started_at=now, total_scanned=1, total_relevant=1, usage=usage)  # fmt: skip
    ranked = RankedPaper(paper=paper, score=score, rank=1, blend=8.7, selected=True)
    return Day(profile="default", date=run.date, criteria=criteria, run=run, papers=[ranked])


def test_token_table_has_totals_and_every_author_is_named() -> None:
    text = render_markdown(day(), RULES, comment_from=6)
    header = next(line for line in text.splitlines() if line.startswith("| Model"))
    assert "| Prompt tokens |" in header and "| Total tokens |" in header
    assert "| **Total** | 4 | 1500 | 200 | 150 | 1650 | $0.0120 |" in text
    entry = text[text.index("**Authors:**") :].splitlines()[0]
    assert all(a in entry for a in AUTHORS)  # the table of contents may stay short


def test_the_appendix_shows_the_whole_prompt_when_an_llm_scored() -> None:
    text = render_markdown(day(), RULES, comment_from=6)
    appendix = text[text.index("## Appendix") :]
    assert "You rate new arXiv papers" in appendix and "relevance below 6" in appendix
    assert "You rate new arXiv papers" not in render_markdown(day("local-tfidf-v1"), RULES)


def test_latex_stays_readable_and_untrusted_text_opens_nothing() -> None:
    text = render_markdown(day(), RULES)
    assert r"$\ell_1$" in text and r"$x_i^2$" in text
    assert r"$\delta \lt  \epsilon$" in text  # < inside TeX becomes TeX's own \lt
    assert "[click](javascript" not in text and r"\[click\](javascript" in text  # no link
    assert not re.search(r"(?<!\\)<(img|script)", text)  # no HTML element opens
    assert escape_md("a [b](c) <i>") == r"a \[b\](c) \<i\>"
    assert escape_md(r"$[a](http://x)$") == r"$\[a\](http://x)$"  # no link hides in TeX


def test_an_empty_day_is_a_sentence_in_the_archive(tmp_path: Path) -> None:
    from bot.publishing.archive import _write_pages
    from scoring.domain.progress import NoProgress

    quiet = day("local-tfidf-v1")
    quiet.papers[0].selected = False
    _write_pages("default", RULES, [quiet], tmp_path, NoProgress())
    for page in ("index.html", "2025-05.html"):
        html = (tmp_path / page).read_text()
        assert '<p class="off">Nothing passed the cutoffs that day.</p>' in html
        assert "<ol>" not in html


LINK = re.compile(r"\]\((\d{4}-\d\d-\d\d)\.md\)")


def day_links(text: str) -> tuple[str | None, str | None]:
    """The previous and next days the digest's header links to."""
    header = text[: text.index("Generated ")]
    prev = re.search(r"\[← (\S+)\]\((\S+)\.md\)", header)
    next_ = re.search(r"\[(\S+) →\]\((\S+)\.md\)", header)
    for link in (prev, next_):
        assert link is None or link[1] == link[2]  # the text names the day it opens
    return (prev[2] if prev else None), (next_[2] if next_ else None)


def test_stored_days_link_to_their_neighbours_and_name_pdfs_categories_and_authors(
    cli: Cli, tmp_path: Path
) -> None:
    """Days written out of order: each digest links to the stored days beside it whose files
    exist, and a day written later gives its neighbours their links."""
    out = tmp_path / "digests"

    def run(day: str) -> dict[str, str]:
        feed = tmp_path / f"{day}.xml"
        feed.write_bytes(rss_feed(day))
        done = cli("run", "--feed", str(feed), "--out", str(out))
        assert done.exit_code == 0, done.output
        return {p.stem: p.read_text() for p in sorted(out.glob("*.md"))}

    files = run("2025-05-28")
    assert day_links(files["2025-05-28"]) == (None, None)  # no other day yet
    files = run("2025-06-03")
    assert day_links(files["2025-05-28"]) == (None, "2025-06-03")
    assert day_links(files["2025-06-03"]) == ("2025-05-28", None)  # the newest: no next
    files = run("2025-05-29")  # a day between the two, stored last
    assert day_links(files["2025-05-28"]) == (None, "2025-05-29")
    assert day_links(files["2025-05-29"]) == ("2025-05-28", "2025-06-03")
    assert day_links(files["2025-06-03"]) == ("2025-05-29", None)
    assert set(LINK.findall("".join(files.values()))) <= set(files)  # no link to a missing file

    # a run of a day again rewrites no other day: the generated time is the run's, not the
    # render's (the day run again may carry its new run's time, a minute later say)
    generated = re.compile(r"^Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC$", re.M)
    assert all(len(generated.findall(text)) == 1 for text in files.values())
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.stem != "2025-06-03"}
    again = run("2025-06-03")
    assert {d: generated.sub("", t) for d, t in again.items()} == {
        d: generated.sub("", t) for d, t in files.items()
    }
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.stem != "2025-06-03"} == before

    text = files["2025-05-29"]
    rows = {r["id"]: r for r in feed_rows("2025-05-29")}
    toc = text[text.index("## Table of contents") : text.index("\n---\n")]
    sections = text.split('\n<a id="')[1:]
    assert len(sections) == len(re.findall(r"^\d+\. \[", toc, re.M)) > 0
    long_lists = 0
    for section, entry in zip(sections, re.findall(r"^\d+\. \[.*$", toc, re.M), strict=True):
        paper_id = re.search(r"\*\*arXiv:\*\* \[([^\]]+)\]", section)[1]  # type: ignore[index]
        row = rows[paper_id]
        assert f"([PDF](https://arxiv.org/pdf/{paper_id}))" in section
        line = re.search(r"\*\*Categories:\*\* ([^·\n]+)", section)[1]  # type: ignore[index]
        assert line.strip() == escape_md(", ".join(row["categories"]))  # as the archive has them
        names = [escape_md(a) for a in row["authors"]]
        assert f"**Authors:** {', '.join(names)}\n" in section  # every author in the section
        listed = entry[entry.index("): ") + 3 :].split(" · **Author match**")[0]
        if len(names) <= 6:
            assert listed == ", ".join(names)  # no one cut when all fit
        else:  # the chat platforms' form, "A, B, C and 4 others": six names unless too long
            shown = [
                k for k in range(1, 7) if listed == ", ".join(names[:k]) + others(len(names) - k)
            ]
            assert shown, listed
            long_lists += shown[0] == 6
    assert long_lists  # the day has papers by more than six authors, six of them named
