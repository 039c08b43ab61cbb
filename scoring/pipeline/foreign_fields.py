"""The foreign fields the checks rate papers under (scoring/pipeline/decoy.py): fields no arXiv
cs paper is about, each with the words of its topic, so that a paper that does touch one (a
legal-NLP paper and maritime law, a climate model and glaciers) is never rated under it."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from scoring.domain.models import CriteriaVersion, Criterion, Paper


@dataclass(frozen=True)
class Field:
    id: str
    title: str
    text: str
    topic: re.Pattern[str]  # a word of its topic at a word's start (short words whole)

    def touches(self, paper: Paper) -> bool:
        return bool(self.topic.search(f"{paper.title} {paper.abstract}".lower()))

    def criteria(self) -> CriteriaVersion:
        return CriteriaVersion(
            version=0,
            items=[Criterion(id=self.id, title=self.title, text=self.text)],
            hash=f"foreign-{self.id}",
            action="init",
            created_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        )


def _field(cid: str, title: str, text: str, words: str) -> Field:
    return Field(cid, title, text, re.compile(rf"\b(?:{words})"))


FIELDS = (
    _field("reef-ecology", "Coral reef ecology",
           "Field surveys of reef fish populations, coral bleaching and reef restoration.",
           r"reef|coral|fish|marine|ocean|sea\b|seas\b|underwater|aquat|bleach|ecolog"),
    _field("manuscripts", "Medieval manuscripts",
           "Palaeography, codicology and the conservation of parchment codices before 1500.",
           r"manuscript|medieval|palaeo|paleo|codex|codic|parchment|handwrit|scribe|archiv"),
    _field("dairy", "Dairy cattle husbandry",
           "Feed rations, rumen fermentation and the milk yield of dairy cows.",
           r"dairy|cattle|cow\b|cows\b|milk|rumen|livestock|farm|agricult|animal|veterin"),
    _field("volcanoes", "Volcanic eruptions",
           "Magma chambers, lava flows and the forecasting of eruptions from tremor and gas.",
           r"volcan|magma|lava\b|erupt|seism|tremor|geolog|geophys|earthquake"),
    _field("baroque", "Baroque music performance",
           "Historical performance practice of seventeenth-century music: continuo, ornaments.",
           r"music|baroque|song|composer|orchestr|melod|concert|singer|singing"),
    _field("fungi", "Forest soil fungi",
           "Mycorrhizal networks, fungal decay of wood and the carbon held in forest soils.",
           r"fung|mycorr|soil|forestry|woodland|plant\b|plants\b|botan|microb"),
    _field("admiralty", "Maritime law",
           "Salvage, admiralty courts and the carriage of goods by sea.",
           r"law\b|laws\b|legal|court|statut|judic|juris|salvage|admiralty|maritime|ship|"
           r"vessel|cargo|sea\b|naval|navy"),
    _field("glaciers", "Glacier mass balance",
           "Ice cores, glacier retreat and meltwater measured in mountain ranges.",
           r"glaci|ice\b|climat|snow|polar|arctic|antarctic|meltwater|cryo|mountain"),
    _field("apiculture", "Beekeeping",
           "Honeybee colonies, hive health, pollination and honey harvests.",
           r"bee\b|bees\b|honey|hive|pollinat|apicult|insect"),
    _field("viticulture", "Vineyards and wine",
           "Grape ripening, vineyard management and the fermentation of wine.",
           r"wine|grape|vine\b|vines\b|vineyard|ferment|viticult|crop"),
    _field("pottery", "Ancient pottery",
           "Kilns, clay sources and the dating of ceramic sherds from excavations.",
           r"potter|ceramic|kiln|clay\b|archaeolog|excavat|sherd|antiquit"),
    _field("birds", "Bird migration",
           "Flyways, stopover sites and the timing of seasonal migration in songbirds.",
           r"bird|avian|ornith|flyway|songbird|feather|wildlife"),
)  # fmt: skip
FIELD_IDS = tuple(f.id for f in FIELDS)


def foreign_field(papers: Sequence[Paper], key: bytes) -> tuple[Field, set[str]]:
    """The field to rate ``papers`` under (the first in an order keyed by the day's secret that
    none of them touches, else the one fewest touch) and the papers that touch it: those are
    left out of the round."""
    order = sorted(FIELDS, key=lambda f: hashlib.sha256(key + f.id.encode()).digest())
    touched = {f.id: {p.id for p in papers if f.touches(p)} for f in order}
    chosen = min(order, key=lambda f: len(touched[f.id]))  # the first of the fewest
    return chosen, touched[chosen.id]
