# ruff: noqa
# Review 35: drive.py with the day's secret (the checks' control key) fixed by KEY (32 hex), so
# that main and home29 can be compared on the same controls and foreign field: the key is random
# per run otherwise, and single hosts flip between runs in both versions.
#   KEY=00..01 BLIND=1 HOSTS=3 OUT=/tmp/r35 TAG=-k1 PYTHONPATH=. python bench/probe29/review35/keyed35.py 2025-05-28 V7
import os, sys, types
from pathlib import Path

import scoring.pipeline.checks as C
import scoring.pipeline.spool as S


class _Os(types.ModuleType):
    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def urandom(n):
        return bytes.fromhex(os.environ["KEY"])[:n]


S.os = C.os = _Os("os")  # the spool's key (where there is one) and Checks' own
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.argv = [str(Path(__file__).resolve().parents[1] / "drive.py"), *sys.argv[1:]]
import runpy

runpy.run_path(sys.argv[0], run_name="__main__")
