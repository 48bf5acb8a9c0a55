"""Chunk access tokens (docs/design.md, "Chunk access tokens") over the raw protocol: a token
the master hands out reads; a forged, expired, misdirected or read-only one is refused with
EACCES; a write is forwarded only along the chain its token names. And a mount whose tokens
live one second reads and writes on for longer than a token (plus the allowed skew) lives."""

import errno
import os
import time

import pytest

from conftest import make_cluster
from test_bad_input import reply_of
from test_data import MiB, sha256_of, write_random
from test_failures import drop_caches
from token_maker import READ, WRITE, make_token, token_key

OUTSIDER = "127.0.0.1:9"  # no chunkserver the master placed: a chain must never reach it


def master_call(cluster, wire, request):
    answer = cluster.call(cluster.active_master(), request.SerializeToString())
    assert answer is not None, "the master did not answer"
    reply = reply_of(wire, answer)
    assert reply.error == 0, reply
    return reply


def first_chunk(cluster, wire, name):
    """GetChunks of chunk 0 of a file of the mount, as the mount asks for it."""
    request = wire.Envelope(request_id=1)
    request.get_chunks.inode = os.stat(cluster.mnt / name).st_ino
    request.get_chunks.count = 1
    return master_call(cluster, wire, request).locations[0]


def read_chunk(cluster, wire, address, chunk_id, version, token, length=4096):
    """(reply, data) of a ReadChunk of the first `length` bytes with `token`."""
    request = wire.Envelope(request_id=2)
    request.read_chunk.chunk_id = chunk_id
    request.read_chunk.chunk_version = version
    request.read_chunk.length = length
    request.read_chunk.token.CopyFrom(token)
    frames = cluster.call(cluster.daemon_at(address), request.SerializeToString())
    assert frames is not None, f"{address} did not answer"
    return reply_of(wire, frames), frames[1] if len(frames) > 1 else b""


def chained(cluster, wire, kind, location, token, chain, data=b"overwritten"):
    """(reply) of a WriteChunk or TruncateChunk of `location`'s chunk sent to its first replica,
    naming `chain` as the replicas after it."""
    request = wire.Envelope(request_id=3)
    body = getattr(request, kind)
    body.chunk_id = location.chunk_id
    body.chunk_version = location.chunk_version
    for address in chain:  # with the key the master gave for it, if it placed it
        known = [replica for replica in location.replicas if replica.address == address]
        if known:
            body.chain.add().CopyFrom(known[0])
        else:
            body.chain.add(address=address)
    body.token.CopyFrom(token)
    frames = cluster.call(cluster.daemon_at(location.replicas[0].address), request.SerializeToString(),
                          data=data if kind == "write_chunk" else None)
    assert frames is not None, "the chain's head did not answer"
    return reply_of(wire, frames)


@pytest.fixture(scope="module")
def two_files(shared_cluster):
    """Two files of one chunk each, written through the mount: their first 4 KiB."""
    contents = {}
    for seed, name in enumerate(["token-a", "token-b"]):
        write_random(shared_cluster.mnt / name, 1 * MiB, seed=70 + seed)
        contents[name] = (shared_cluster.mnt / name).read_bytes()[:4096]
    return contents


def test_the_masters_read_token_reads_every_replica_and_no_token_reads_none(shared_cluster, wire, two_files):
    chunk = first_chunk(shared_cluster, wire, "token-a")
    token = chunk.token
    assert len(token.mac) == 32 and token.modes == READ and not token.chain, token
    assert (token.chunk_id, token.chunk_version) == (chunk.chunk_id, chunk.chunk_version)
    assert token.expiry_ms - token.issued_ms == 600_000  # --token-lifetime-s's default
    assert len(chunk.replicas) == 3
    for replica in chunk.replicas:
        reply, data = read_chunk(shared_cluster, wire, replica.address, chunk.chunk_id, chunk.chunk_version, token)
        assert reply.error == 0, reply
        assert data == two_files["token-a"]
        reply, data = read_chunk(shared_cluster, wire, replica.address, chunk.chunk_id, chunk.chunk_version,
                                 wire.ChunkToken())
        assert reply.error == errno.EACCES and not data, reply


def test_forged_expired_and_misdirected_tokens_are_refused(shared_cluster, wire, two_files):
    a = first_chunk(shared_cluster, wire, "token-a")
    b = first_chunk(shared_cluster, wire, "token-b")
    address = a.replicas[0].address
    key = token_key(shared_cluster)

    def refused(token, chunk=a):
        reply, data = read_chunk(shared_cluster, wire, address, chunk.chunk_id, chunk.chunk_version, token)
        assert reply.error == errno.EACCES and not data, reply
        return reply.error_message.decode()

    # One made here with the cluster's key reads (the MAC is the one the chunkserver computes)...
    reply, data = read_chunk(shared_cluster, wire, address, a.chunk_id, a.chunk_version,
                             make_token(wire, key, a.chunk_id, a.chunk_version, READ))
    assert reply.error == 0 and data == two_files["token-a"], reply
    # ...and every one of these does not.
    forged = wire.ChunkToken()
    forged.CopyFrom(a.token)
    forged.mac = bytes([forged.mac[0] ^ 1]) + forged.mac[1:]
    assert "bad MAC" in refused(forged)
    assert "bad MAC" in refused(make_token(wire, os.urandom(32), a.chunk_id, a.chunk_version, READ))
    hour_ago_ms = int(time.time() * 1000) - 3_600_000
    expired = make_token(wire, key, a.chunk_id, a.chunk_version, READ, issued_ms=hour_ago_ms, lifetime_ms=60_000)
    assert "expired" in refused(expired)
    assert f"not chunk {b.chunk_id}" in refused(a.token, chunk=b)  # chunk A's token for chunk B
    # A read token does not write or truncate, and what was refused changed nothing.
    downstream = [replica.address for replica in a.replicas[1:]]
    assert chained(shared_cluster, wire, "write_chunk", a, a.token, downstream).error == errno.EACCES
    assert chained(shared_cluster, wire, "truncate_chunk", a, a.token, downstream).error == errno.EACCES
    for replica in a.replicas:
        reply, data = read_chunk(shared_cluster, wire, replica.address, a.chunk_id, a.chunk_version, a.token)
        assert reply.error == 0 and data == two_files["token-a"], reply
    assert any("chunk access token refused" in shared_cluster.log(f"cs{i}") for i in (1, 2, 3))


def test_a_write_goes_only_down_the_chain_its_token_names(shared_cluster, wire):
    with open(shared_cluster.mnt / "token-w", "wb") as made:
        os.fsync(made.fileno())  # on the masters (not only on a mount writing back) before asked for by inode
    request = wire.Envelope(request_id=4)
    request.write_lease.inode = os.stat(shared_cluster.mnt / "token-w").st_ino
    lease = master_call(shared_cluster, wire, request).location
    token = lease.token
    chain = [replica.address for replica in lease.replicas]
    assert token.modes == READ | WRITE and list(token.chain) == chain, token
    assert token.expiry_ms - token.issued_ms <= 10_000  # no longer than the write lease

    # A client that adds or substitutes a replica gets EACCES from the head: nothing stored,
    # nothing forwarded (no replica results).
    for wrong in (chain[1:] + [OUTSIDER], [OUTSIDER] + chain[2:], chain[2:]):
        reply = chained(shared_cluster, wire, "write_chunk", lease, token, wrong)
        assert reply.error == errno.EACCES and not reply.replica_results, (wrong, reply)
        reply, _ = read_chunk(shared_cluster, wire, chain[0], lease.chunk_id, lease.chunk_version, token)
        assert reply.error == errno.ENOENT, reply
    # The chain the master placed takes it, every replica checking the forwarded token.
    reply = chained(shared_cluster, wire, "write_chunk", lease, token, chain[1:], data=b"tokened")
    assert reply.error == 0 and [r.error for r in reply.replica_results] == [0, 0, 0], reply
    for address in chain:
        reply, data = read_chunk(shared_cluster, wire, address, lease.chunk_id, lease.chunk_version, token, length=7)
        assert reply.error == 0 and data == b"tokened", reply


def test_a_mount_outlives_its_tokens(request):
    """Tokens of one second: the mount asks for new ones before they run out, so reading and
    writing for longer than a token and the allowed clock skew (10 s) never meets a refusal."""
    cluster = make_cluster(request, env={"HAFS_MASTER_ARGS": "--token-lifetime-s 1"})
    path = cluster.mnt / "short-lived"
    digest = write_random(path, 3 * MiB, seed=77)
    deadline = time.monotonic() + 12
    rounds = 0
    with open(cluster.mnt / "appended", "ab") as appended:
        while time.monotonic() < deadline:
            drop_caches()
            assert sha256_of(path) == digest
            appended.write(b"x" * 4096)
            appended.flush()
            os.fsync(appended.fileno())
            rounds += 1
    assert os.path.getsize(cluster.mnt / "appended") == rounds * 4096
    for name in ("cs1", "cs2", "cs3"):
        assert "chunk access token refused" not in cluster.log(name), cluster.log(name)
