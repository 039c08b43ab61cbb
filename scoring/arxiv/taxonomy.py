"""arXiv's category taxonomy (https://arxiv.org/category_taxonomy), as data: the names a
profile's ``categories`` may use. A category is ``archive.SUBJECT`` (``cs.LG``,
``astro-ph.CO``, ``cond-mat.stat-mech``) or an archive without subjects (``hep-th``,
``quant-ph``). Cross-listed aliases are categories of their own (``math.IT`` is ``cs.IT``,
``math.ST`` is ``stat.TH``, ``eess.SY`` is ``cs.SY``). No installed package keeps the list,
so it lives here; arXiv adds a category rarely (``cs.*`` last grew in the 2010s).
"""

from __future__ import annotations

import difflib
import re

_SUBJECTS = {
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA "
    "NE NI OH OS PF PL RO SC SD SE SI SY",
    "econ": "EM GN TH",
    "eess": "AS IV SP SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA "
    "RT SG SP ST",
    "nlin": "AO CD CG PS SI",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an "
    "ed-ph flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
    "q-bio": "BM CB GN MO NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "stat": "AP CO ME ML OT TH",
}
# archives that are a category themselves
_SINGLE = "gr-qc hep-ex hep-lat hep-ph hep-th math-ph nucl-ex nucl-th quant-ph"

ARCHIVES: frozenset[str] = frozenset(_SUBJECTS)
CATEGORIES: frozenset[str] = frozenset(
    [f"{archive}.{s}" for archive, subjects in _SUBJECTS.items() for s in subjects.split()]
    + _SINGLE.split()
)
_BY_LOWER = {c.lower(): c for c in CATEGORIES}


def unknown_category(name: str) -> str | None:
    """None for a category of arXiv's taxonomy, else why not, with the closest one."""
    if name in CATEGORIES:
        return None
    if name in ARCHIVES:
        example = min(c for c in CATEGORIES if c.startswith(name + "."))
        return f"{name!r} is an archive, not a category: name its categories, like {example}"
    parts = [p for p in re.split(r"[\s,+]+", name) if p]
    if len(parts) > 1 and all(p in CATEGORIES for p in parts):
        return f"{name!r} is several categories: give them one by one, as {parts}"
    close = _BY_LOWER.get(name.lower()) or next(
        iter(difflib.get_close_matches(name, sorted(CATEGORIES), n=1, cutoff=0.6)), None
    )
    hint = f" (did you mean {close}?)" if close else " (see arxiv.org/category_taxonomy)"
    return f"{name!r} is not an arXiv category{hint}"
