"""The Markdown digest against the format readers know: token totals, every author, the whole
prompt, and LaTeX as the authors wrote it, with untrusted text still unable to open links or
HTML."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from bot.render.digest import escape_md, render_markdown
from prompts import read_prompt
from scoring.domain.configs import ProfileRules
from scoring.domain.criteria import parse_criteria_markdown
from scoring.domain.models import CriteriaVersion, Day, Paper, RankedPaper, RunRecord, Score, Usage

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
