"""What the daemons keep on disk: every file and directory they make is private, 0600
files in 0700 directories."""

import stat

from test_data import MiB, write_random


def test_daemons_files_are_private(shared_cluster):
    cluster = shared_cluster
    write_random(cluster.mnt / "private", 2 * MiB, seed=41)
    active = cluster.wait_active()
    for name in cluster.master_names():
        if name != active:
            cluster.wait_standby_in_sync(name)  # it fetched a checkpoint: the active wrote one for it
    data_dirs = sorted(cluster.root.glob("*/data"))
    assert {d.parent.name for d in data_dirs} >= {"master1", "cs1", "cs2", "cs3"}

    wrong = []
    for data in data_dirs:
        for path in [data, *data.rglob("*")]:
            mode = path.lstat().st_mode
            expected = 0o700 if stat.S_ISDIR(mode) else 0o600
            if stat.S_IMODE(mode) != expected:
                wrong.append(f"{path.relative_to(cluster.root)} is {stat.S_IMODE(mode):o}, not {expected:o}")
    assert not wrong, "\n".join(wrong)
