"""Nothing a peer sends can stop the cluster (issue 12, its hardening part): names are bytes,
every request that cannot be decoded is answered, and the messages that once took a daemon or
the whole HA pair down (a chunk index of 2^61, an epoch of 2^64-1, an oversized message) are
answered with errors while both masters keep serving and the mount keeps working. A forged
ReportBadReplica deletes nothing: the chunkserver checks its replica, and only its word counts."""

import errno
import os

import pytest

from conftest import wait_until
from test_bad_input import reply_of
from test_data import MiB, sha256_of, write_random
from test_failures import drop_caches
from test_scrub import flip_bytes, valid_on

# Legal Linux names that are not UTF-8 (Latin-1 archives, stray bytes), and one that is.
NAMES = [b"caf\xe9", b"\xff\xfe-latin1-\xe9t\xe9", b"\x80", b"half-\xc3\x28-sequence", "日本語".encode()]


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def length_delimited(field: int, payload: bytes) -> bytes:
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def test_names_that_are_not_utf8_round_trip_through_two_mounts(shared_cluster, tmp_path):
    here = os.path.join(bytes(shared_cluster.mnt), b"names")
    os.mkdir(here)
    with shared_cluster.second_mount(tmp_path / "other") as other_mount:
        there = os.path.join(bytes(other_mount), b"names")
        for name in NAMES:
            with open(os.path.join(here, name), "wb") as out:
                out.write(name * 100)
        assert sorted(os.listdir(there)) == sorted(NAMES)
        for name in NAMES:
            with open(os.path.join(there, name), "rb") as back:
                assert back.read() == name * 100
            assert os.stat(os.path.join(there, name)).st_size == len(name) * 100

        os.rename(os.path.join(there, NAMES[0]), os.path.join(there, b"renamed-\xe9"))
        os.symlink(b"target-\xff", os.path.join(there, b"link-\xfe"))
        os.mkdir(os.path.join(there, b"dir-\xe9"))
        os.link(os.path.join(there, NAMES[2]), os.path.join(there, b"hard-\xe9"))
        os.unlink(os.path.join(here, NAMES[1]))
        expected = sorted([b"renamed-\xe9", b"link-\xfe", b"dir-\xe9", b"hard-\xe9", *NAMES[2:]])
        assert sorted(os.listdir(here)) == expected
        assert sorted(os.listdir(there)) == expected
        assert os.readlink(os.path.join(here, b"link-\xfe")) == b"target-\xff"
        with pytest.raises(FileNotFoundError):
            os.stat(os.path.join(here, b"never-made-\xe9"))  # answered, not a retry window
        os.rmdir(os.path.join(here, b"dir-\xe9"))
        assert b"dir-\xe9" not in os.listdir(there)


@pytest.mark.parametrize("daemon", ["master1", "cs1"])
def test_a_request_that_cannot_be_decoded_is_answered(shared_cluster, wire, daemon):
    # request_id 77, then a Lookup body whose bytes are cut inside a varint.
    envelope = varint(1 << 3) + varint(77) + length_delimited(20, b"\x08\xff\xff")
    answer = shared_cluster.call(daemon, envelope)
    assert answer is not None, f"{daemon} did not answer an undecodable request"
    reply = wire.Envelope()
    reply.ParseFromString(answer[0])
    assert reply.request_id == 77
    assert reply.reply.error == errno.EBADMSG, reply


def lookup_inode(cluster, wire, name: bytes) -> int:
    request = wire.Envelope(request_id=1)
    request.lookup.parent = 1
    request.lookup.name = name
    reply = reply_of(wire, cluster.call(cluster.active_master(), request.SerializeToString()))
    assert reply.error == 0, reply
    return reply.attr.inode


def assert_cluster_serves(cluster, name: str):
    """Both masters answer (one active), and the mount writes and reads a file."""
    wait_until(lambda: cluster.active_master() is not None, what="an active master")
    status = cluster.status()
    assert {master["role"] for master in status["masters"]} == {"active", "standby"}, status
    path = cluster.mnt / name
    digest = write_random(path, MiB, seed=len(name))
    assert sha256_of(path) == digest


def test_positions_past_the_largest_file_are_refused_and_cost_no_memory(shared_cluster, wire):
    (shared_cluster.mnt / "small").write_bytes(b"x")
    inode = lookup_inode(shared_cluster, wire, b"small")
    active = shared_cluster.active_master()
    standby = "master2" if active == "master1" else "master1"
    before = {name: rss_kib(shared_cluster.pid(name)) for name in (active, standby)}
    for shift in (61, 40, 30):
        request = wire.Envelope(request_id=shift)
        request.write_lease.inode = inode
        request.write_lease.chunk_index = 1 << shift
        reply = reply_of(wire, shared_cluster.call(active, request.SerializeToString()))
        assert reply.error == errno.EFBIG, reply
    for field, value in (("write_done", 1 << 62), ("set_attr", 1 << 62)):
        request = wire.Envelope(request_id=100)
        body = getattr(request, field)
        body.inode = inode
        if field == "write_done":
            body.end_offset = value
        else:
            body.valid = 1 << 3  # FUSE_SET_ATTR_SIZE
            body.size = value
        reply = reply_of(wire, shared_cluster.call(active, request.SerializeToString()))
        assert reply.error == errno.EFBIG, (field, reply)
    assert shared_cluster.active_master() == active
    for name, kib in before.items():
        assert rss_kib(shared_cluster.pid(name)) - kib < 64 * 1024, f"{name} grew"
    assert_cluster_serves(shared_cluster, "after-big-indexes")


def test_an_epoch_far_ahead_is_refused_and_fences_nobody(shared_cluster, wire):
    active = shared_cluster.active_master()
    for daemon in ("cs1", "cs2", active):
        request = wire.Envelope(request_id=5, epoch=(1 << 64) - 1)
        if daemon.startswith("cs"):
            request.read_chunk.chunk_id = 1
            request.read_chunk.length = 1
        else:
            request.get_attr.inode = 1
        reply = reply_of(wire, shared_cluster.call(daemon, request.SerializeToString()))
        assert reply.error == errno.EINVAL, (daemon, reply)
    lease = wire.Envelope(request_id=6, epoch=(1 << 64) - 1)
    lease.leadership_lease.epoch = (1 << 64) - 1
    lease.leadership_lease.master_address = "127.0.0.1:1"
    lease.leadership_lease.duration_ms = 10000
    reply = reply_of(wire, shared_cluster.call("cs3", lease.SerializeToString(), key="master"))
    assert reply.error == errno.EINVAL and not reply.lease_granted, reply
    assert shared_cluster.active_master() == active
    assert_cluster_serves(shared_cluster, "after-epoch-lies")


@pytest.mark.parametrize("daemon", ["master1", "cs1"])
def test_a_message_over_the_size_limit_in_all_its_frames_is_refused(shared_cluster, wire, daemon):
    request = wire.Envelope(request_id=8)
    request.write_chunk.chunk_id = 1
    request.write_chunk.chunk_version = 1
    padding = length_delimited(1000, b"\0" * (40 * MiB))  # a field nobody knows, skipped by the parser
    answer = shared_cluster.call(daemon, request.SerializeToString() + padding, data=b"\0" * (40 * MiB))
    assert answer is not None, f"{daemon} did not answer"
    reply = wire.Envelope()
    reply.ParseFromString(answer[0])
    assert reply.request_id == 8 and reply.reply.error == errno.EMSGSIZE, reply.reply
    assert_cluster_serves(shared_cluster, f"after-oversized-{daemon}")


def read_token(cluster, wire, path):
    """The read token the master gives a client for the first chunk of `path` (GetChunks)."""
    request = wire.Envelope(request_id=3)
    request.get_chunks.inode = path.stat().st_ino
    request.get_chunks.count = 1
    return reply_of(wire, cluster.call(cluster.active_master(), request.SerializeToString())).locations[0].token


def report_bad(cluster, wire, chunk_id, chunkserver_id, token=None):
    """A client's report that a replica is bad; the master's answer's error."""
    request = wire.Envelope(request_id=chunkserver_id)
    request.report_bad_replica.chunk_id = chunk_id
    request.report_bad_replica.chunkserver_id = chunkserver_id
    request.report_bad_replica.error = errno.EBADMSG
    request.report_bad_replica.reason = "forged"
    if token is not None:
        request.report_bad_replica.read_token.CopyFrom(token)
    return reply_of(wire, cluster.call(cluster.active_master(), request.SerializeToString())).error


def test_forged_reports_of_every_replica_delete_nothing(shared_cluster, wire):
    cluster = shared_cluster
    path = cluster.mnt / "reported-everywhere"
    digest = write_random(path, 3 * MiB, seed=12)
    chunk = cluster.hafs_json("fileinfo", str(path))["chunks"][0]
    assert len(chunk["replicas"]) == 3
    # Without the read token the master gave for this chunk, a report is refused outright.
    other = cluster.mnt / "another-file"
    write_random(other, MiB, seed=14)
    for token in (None, read_token(cluster, wire, other)):
        assert report_bad(cluster, wire, chunk["id"], chunk["replicas"][0]["chunkserver"], token) == errno.EACCES
    # With it (a client that did read the chunk), the chunkservers are asked, and find nothing.
    token = read_token(cluster, wire, path)
    for replica in chunk["replicas"]:
        assert report_bad(cluster, wire, chunk["id"], replica["chunkserver"], token) == 0
    checked = f"chunk {chunk['id']} version {chunk['version']} was reported bad by a client; checked here"
    for name in ("cs1", "cs2", "cs3"):
        wait_until(lambda: checked in cluster.log(name), what=f"{name} to check its replica")
    assert all(valid_on(cluster, path, name) == {chunk["id"]} for name in ("cs1", "cs2", "cs3"))
    drop_caches()
    assert sha256_of(path) == digest


def test_a_report_of_a_really_bad_replica_gets_it_replaced(shared_cluster, wire):
    cluster = shared_cluster
    path = cluster.mnt / "really-rotten"
    digest = write_random(path, 3 * MiB, seed=13)
    chunk = cluster.hafs_json("fileinfo", str(path))["chunks"][0]
    cs1 = next(r for r in chunk["replicas"] if r["address"] == cluster.address("cs1"))
    chunk_file = next(f for f in cluster.chunk_files("cs1") if f.name == f"{chunk['id']:016x}.chunk")
    flip_bytes(chunk_file, [12288 + MiB + 5])  # behind the chunkserver's back; nothing reads it
    assert report_bad(cluster, wire, chunk["id"], cs1["chunkserver"], read_token(cluster, wire, path)) == 0
    corrupt = f"chunk {chunk['id']} version {chunk['version']} replica is corrupt"
    wait_until(lambda: corrupt in cluster.log("cs1"), what="cs1 to find its replica bad when asked")
    copied = f"copied chunk {chunk['id']} v{chunk['version']} from chunkserver"
    wait_until(lambda: copied in cluster.log("master1") + cluster.log("master2"), timeout_s=60,
               what="a good copy in place of the bad one")
    wait_until(lambda: valid_on(cluster, path, "cs1") == {chunk["id"]}, what="cs1 to hold a valid replica again")
    drop_caches()
    assert sha256_of(path) == digest


def test_write_back_batches_from_a_peer_without_delegations_change_nothing(shared_cluster, wire):
    """A peer with a session of its own ships changes in directories it was never delegated,
    with an inode number never granted to it, a chunk attached to another's file, a kind of
    change no mount writes back, too many at once (129), or for a session it does not have: each
    is refused, and nothing changes."""
    cluster = shared_cluster
    (cluster.mnt / "wb-hostile").mkdir()
    victim = cluster.mnt / "wb-hostile" / "victim"
    victim.write_bytes(b"keep")
    victim.chmod(0o600)
    active = cluster.active_master()

    def ask(envelope):
        reply = cluster.ask(wire, active, envelope.SerializeToString())
        assert reply is not None, "the master did not answer"
        return reply.reply

    def inode_of(parent, name):
        request = wire.Envelope(request_id=1)
        request.lookup.parent, request.lookup.name = parent, name
        reply = ask(request)
        assert reply.error == 0, reply
        return reply.attr.inode

    parent = inode_of(1, b"wb-hostile")
    victim_inode = inode_of(parent, b"victim")
    session = 0x5EED0000 + os.getpid()
    opening = wire.Envelope(request_id=2, client_id=session, sequence=1)
    opening.session.host, opening.session.mount_point = "stranger", b"/nowhere"
    assert ask(opening).error == 0

    batch = wire.Envelope(request_id=3, client_id=session, sequence=2)
    planted = batch.change_batch.changes.add(client_id=session, sequence=3)
    planted.mknod.parent, planted.mknod.name, planted.mknod.mode = parent, b"planted", 0o100644
    planted.mknod.inode, planted.mknod.exclusive = 1 << 40, True
    opened_up = batch.change_batch.changes.add(client_id=session, sequence=4)
    opened_up.set_attr.inode, opened_up.set_attr.valid, opened_up.set_attr.mode = victim_inode, 1, 0o777
    grown = batch.change_batch.changes.add(client_id=session, sequence=5)
    grown.write_done.inode, grown.write_done.end_offset = victim_inode, 1 << 30
    moved = batch.change_batch.changes.add(client_id=session, sequence=6)
    moved.rename.parent, moved.rename.name = parent, b"victim"
    moved.rename.new_parent, moved.rename.new_name = parent, b"moved"
    attached = batch.change_batch.changes.add(client_id=session, sequence=8)
    attached.attach_chunk.inode, attached.attach_chunk.chunk_index, attached.attach_chunk.chunk_id = victim_inode, 5, 1
    linked = batch.change_batch.changes.add(client_id=session, sequence=7)
    linked.link.inode, linked.link.new_parent, linked.link.new_name = victim_inode, parent, b"hardlink"
    replies = ask(batch).batch_replies
    assert [reply.error for reply in replies] == [errno.ENOLCK] * 5 + [errno.EINVAL], replies
    # A chunk attached outside a batch, or placements asked for by a session that watches
    # nothing: refused.
    alone = wire.Envelope(request_id=6, client_id=session, sequence=20)
    alone.attach_chunk.inode, alone.attach_chunk.chunk_index, alone.attach_chunk.chunk_id = victim_inode, 5, 1
    assert ask(alone).error != 0
    placements = wire.Envelope(request_id=7, client_id=session, sequence=21)
    placements.delegation.dir, placements.delegation.want_placements = parent, 64
    answer = ask(placements)
    assert answer.error == errno.ENOENT and not answer.placements, answer

    flood = wire.Envelope(request_id=4, client_id=session, sequence=7)
    for i in range(129):
        flood.change_batch.changes.add(client_id=session, sequence=10 + i).unlink.parent = parent
    assert ask(flood).error == errno.EMSGSIZE
    stranger = wire.Envelope(request_id=5, client_id=session + 1, sequence=1)
    stranger.change_batch.CopyFrom(batch.change_batch)
    assert ask(stranger).error == errno.ENOENT

    assert sorted(os.listdir(cluster.mnt / "wb-hostile")) == ["victim"]
    assert victim.stat().st_mode & 0o777 == 0o600 and victim.read_bytes() == b"keep"
    assert cluster.active_master() == active
