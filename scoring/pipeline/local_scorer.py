"""Local scorer: TF-IDF similarity to each criterion, no LLM, no network, deterministic.

Relevance: cosine similarity between a paper (title counted twice, then abstract) and each
"include" criterion in a TF-IDF space fitted on the criteria plus the day's papers (words,
sublinear tf; bigrams measured no better). The best criterion names the match; similarity
to "against" criteria subtracts. The similarity maps linearly onto 1-10 (``SIM_FOR_TEN`` gets a 10).

Novelty: 3 to 7 by how distinct the paper is within the day's batch (percentile of its mean
similarity to its five nearest neighbours; a paper close to many others is more likely
incremental), plus wording cues ("we introduce", "first" up;
"benchmark", "survey", "case study" down); replacements of old papers lose 2.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from collections.abc import Sequence

import numpy as np

from scoring.domain.models import CriteriaVersion, Paper, Score
from scoring.domain.scorer import ProgressCallback, ScoringOutcome

METHOD_VERSION = "tfidf-v1"
SIM_FOR_TEN = 0.16
AGAINST_WEIGHT = 0.6
_UP = re.compile(
    r"\b(we (?:introduce|propose|present)|novel|first|new (?:class|paradigm|framework|theory)"
    r"|theoretical|provabl[ey]|fundamental)\b",
    re.I,
)
_DOWN = re.compile(
    r"\b(benchmark(?:ing)?|survey|review|case study|empirical study|we evaluate|dataset"
    r"|application|tutorial|position paper)\b",
    re.I,
)


def weighted_text(p: Paper) -> str:
    """Title counted twice, then the abstract: the text a paper's words are weighed from."""
    return f"{p.title}. {p.title}. {p.abstract}"


def _to_scale(x: float) -> int:
    return int(min(10, max(1, round(1 + 9 * x))))


class LocalScorer:
    name = f"local-{METHOD_VERSION}"
    description = (
        "local TF-IDF scorer (no LLM configured): relevance is word overlap with each "
        "criterion, novelty a heuristic; set OPENAI_API_KEY or OPENAI_BASE_URL for LLM scores"
    )
    prompt_hash = hashlib.sha256(METHOD_VERSION.encode()).hexdigest()[:12]

    async def score(
        self,
        papers: Sequence[Paper],
        criteria: CriteriaVersion,
        on_progress: ProgressCallback | None = None,
    ) -> ScoringOutcome:
        scores = await asyncio.to_thread(self.score_sync, list(papers), criteria)
        if on_progress:
            on_progress(scores, [])
        return ScoringOutcome(scores=scores)

    def score_sync(self, papers: list[Paper], criteria: CriteriaVersion) -> list[Score]:
        if not papers:
            return []
        from sklearn.feature_extraction.text import TfidfVectorizer  # heavy: only when scoring
        from sklearn.metrics.pairwise import cosine_similarity

        include = [c for c in criteria.items if c.kind == "include"]
        exclude = [c for c in criteria.items if c.kind == "exclude"]
        crit_texts = [f"{c.title}. {c.text}" for c in (*include, *exclude)]
        vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=1)
        matrix = vectorizer.fit_transform(crit_texts + [weighted_text(p) for p in papers])
        crit_m, paper_m = matrix[: len(crit_texts)], matrix[len(crit_texts) :]
        sim = cosine_similarity(paper_m, crit_m)
        inc_sim = sim[:, : len(include)]
        exc_sim = sim[:, len(include) :].max(axis=1) if exclude else np.zeros(len(papers))
        peer = cosine_similarity(paper_m)
        np.fill_diagonal(peer, 0.0)
        crowding = np.sort(peer, axis=1)[:, -5:].mean(axis=1)
        # 1.0 for the most distinct paper of the day, 0.0 for the most crowded
        distinct = 1.0 - (np.argsort(np.argsort(crowding)) / max(1, len(papers) - 1))
        vocab = vectorizer.get_feature_names_out()
        now = dt.datetime.now(dt.UTC)
        out = []
        for i, p in enumerate(papers):
            best = int(np.argmax(inc_sim[i]))
            raw = float(inc_sim[i, best]) - AGAINST_WEIGHT * float(exc_sim[i])
            relevance = _to_scale(raw / SIM_FOR_TEN)
            novelty = self._novelty(p, float(distinct[i]))
            terms = _shared_terms(paper_m[i], crit_m[best], vocab)
            crit = include[best]
            comment = f"Best match: {crit.title} ({crit.id})"
            comment += f"; shared terms: {', '.join(terms)}" if terms else "; few shared terms"
            if exclude and exc_sim[i] > 0.05:
                against = _shared_terms(paper_m[i], crit_m[len(include) :].max(axis=0), vocab)
                if against:
                    comment += f"; against: {', '.join(against)}"
            out.append(
                Score(
                    paper_id=p.id,
                    relevance=relevance,
                    novelty=novelty,
                    criterion=crit.id,
                    comment=comment,
                    model=self.name,
                    criteria_hash=criteria.hash,
                    prompt_hash=self.prompt_hash,
                    scored_at=now,
                )
            )
        return out

    @staticmethod
    def _novelty(p: Paper, distinct: float) -> int:
        text = f"{p.title} {p.abstract}"
        value = 3.0 + 4.0 * distinct
        value += min(2, len(_UP.findall(text))) - min(2, len(_DOWN.findall(text)))
        if p.announce_type.startswith("replace"):
            value -= 2
        return int(min(10, max(1, round(value))))


def _shared_terms(paper_vec: object, crit_vec: object, vocab: np.ndarray, k: int = 3) -> list[str]:
    a = np.asarray(paper_vec.todense() if hasattr(paper_vec, "todense") else paper_vec).ravel()
    b = np.asarray(crit_vec.todense() if hasattr(crit_vec, "todense") else crit_vec).ravel()
    contrib = a * b
    top = [int(j) for j in np.argsort(contrib)[::-1][:k] if contrib[j] > 0]
    return [str(vocab[j]) for j in top]
