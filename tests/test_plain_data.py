"""Plain data frames (docs/security.md, "Data frames: encrypted or plain"): with
`hafs-local up --plain-data` every chunkserver has a plain data port, the master hands it out
with each replica, and the mount's reads and writes (and the chain's forwards) go there,
byte-exact; the port serves a request only with the authenticator made with its token's MAC,
which the master gave over CURVE and which never crosses the plain port."""

import errno
import hashlib
import hmac
import json
import os
import subprocess
import urllib.request

import pytest

from conftest import BUILD, call_raw, make_cluster
from test_bad_input import reply_of
from test_data import MiB, sha256_of, write_random
from test_failures import drop_caches

REQUEST_TAG = b"hafs-plainreq-v1"  # common/data_frame_auth.h
REPLY_TAG = b"hafs-plainrep-v1"


NO_DATA = bytes(8)  # the data checksum of a message without a data frame


def authenticator(key, tag, envelope_bytes, data_checksum=NO_DATA):
    """MAC then data checksum; the MAC is libsodium's crypto_auth_hmacsha512256 (HMAC-SHA-512
    cut to 32 bytes) over the tag, the data checksum and the envelope."""
    return hmac.new(key, tag + data_checksum + envelope_bytes, hashlib.sha512).digest()[:32] + data_checksum


def plain_accepted(cluster):
    """hafs_chunkserver_plain_requests_total{result="accepted"} summed over the chunkservers."""
    daemons = json.loads(cluster.local("status", "--json").stdout)["daemons"]
    count = 0.0
    for daemon in daemons:
        if daemon["name"].startswith("cs") and daemon["metrics"]:
            with urllib.request.urlopen(daemon["metrics"], timeout=5) as answer:
                for line in answer.read().decode().splitlines():
                    if line.startswith('hafs_chunkserver_plain_requests_total{result="accepted"}'):
                        count += float(line.split()[-1])
    return count


@pytest.fixture(scope="module")
def plain_cluster(request):
    return make_cluster(request, plain_data=True)


def test_mount_writes_and_reads_over_the_plain_ports(plain_cluster, wire):
    cluster = plain_cluster
    before = plain_accepted(cluster)
    path = cluster.mnt / "plain"
    size = 5 * MiB + 12345
    expected = write_random(path, size, seed=31)
    drop_caches()  # the read below must come from the chunkservers
    assert sha256_of(path) == expected
    # Each write came in on the head's plain port and was forwarded to two more; reads too.
    assert plain_accepted(cluster) - before >= 3 + 1

    # The master hands out each replica's plain port with the token (over CURVE).
    request = wire.Envelope(request_id=1)
    request.get_chunks.inode = os.stat(path).st_ino
    request.get_chunks.count = 1
    answer = cluster.call(cluster.active_master(), request.SerializeToString())
    location = reply_of(wire, answer).locations[0]
    assert len(location.replicas) == 3
    assert all(replica.plain_data_address for replica in location.replicas), location
    assert len(location.token.mac) == 32

    # A request made here as the mount makes it reads the bytes; its reply authenticates.
    key = location.token.mac
    read = wire.Envelope(request_id=2)
    read.read_chunk.chunk_id = location.chunk_id
    read.read_chunk.chunk_version = location.chunk_version
    read.read_chunk.length = 4096
    read.read_chunk.token.CopyFrom(location.token)
    read.read_chunk.token.mac = b""  # the secret stays home
    envelope = read.SerializeToString()
    address = location.replicas[0].plain_data_address
    frames = call_raw(address, authenticator(key, REQUEST_TAG, envelope), frames=[envelope])
    assert frames is not None and len(frames) == 3, frames
    assert len(frames[0]) == 40 and frames[0][32:] != NO_DATA
    assert hmac.compare_digest(frames[0], authenticator(key, REPLY_TAG, frames[1], frames[0][32:]))
    assert reply_of(wire, frames[1:]).error == 0
    with open(path, "rb") as handle:
        assert frames[2] == handle.read(4096)

    # Without the authenticator, with one for other bytes, or with the MAC in the clear: EACCES.
    def refused(*frames_sent):
        frames = call_raw(address, frames_sent[0], frames=list(frames_sent[1:]))
        assert frames is not None
        envelope_frame = frames[1] if len(frames) > 1 else frames[0]
        return reply_of(wire, [envelope_frame]).error

    assert refused(envelope) == errno.EACCES
    other = wire.Envelope()
    other.CopyFrom(read)
    other.read_chunk.offset = 4096
    assert refused(authenticator(key, REQUEST_TAG, envelope), other.SerializeToString()) == errno.EACCES
    leaked = wire.Envelope()
    leaked.CopyFrom(read)
    leaked.read_chunk.token.mac = key
    leaked_bytes = leaked.SerializeToString()
    assert refused(authenticator(key, REQUEST_TAG, leaked_bytes), leaked_bytes) == errno.EACCES
    # Nothing but data requests there, however authenticated.
    lookup = wire.Envelope(request_id=3)
    lookup.lookup.parent = 1
    lookup.lookup.name = b"plain"
    lookup_bytes = lookup.SerializeToString()
    assert refused(authenticator(key, REQUEST_TAG, lookup_bytes), lookup_bytes) == errno.EACCES


def test_chunkserver_refuses_a_plain_port_without_tokens(plain_cluster, tmp_path):
    """Tokens are all that authorises a request on the plain port: without a token key the
    chunkserver does not start (exit 2), before it touches its data directory."""
    result = subprocess.run([str(BUILD / "hafs-chunkserver"), "--insecure", "--plain-data-listen", "127.0.0.1:0",
                             "--data-dir", str(tmp_path / "missing")], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert "--plain-data-listen" in result.stderr
