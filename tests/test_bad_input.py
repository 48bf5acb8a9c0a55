"""Bad input gets a clear error and a log line; no daemon crashes on a peer's bytes or
stores anything corrupted."""

import errno
import os
import socket
import subprocess

import pytest

from conftest import BUILD, call_raw, make_cluster, wait_until
from test_data import MiB, sha256_of, write_random
from token_maker import READ, make_token, token_key


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mount_with_unreachable_master_fails_clearly(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    result = subprocess.run([str(BUILD / "hafs-mount"), "--master", f"127.0.0.1:{free_port()}",
                             "--master-timeout-ms", "300", "--insecure", str(mnt)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "master" in result.stderr.lower()
    assert f" {mnt} " not in open("/proc/mounts").read()


def test_chunkserver_refuses_a_missing_data_directory(tmp_path):
    missing = tmp_path / "does-not-exist"
    result = subprocess.run([str(BUILD / "hafs-chunkserver"), "--data-dir", str(missing), "--listen", "127.0.0.1:0",
                             "--master", f"127.0.0.1:{free_port()}", "--insecure"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert str(missing) in result.stderr


def test_chunkserver_refuses_a_read_only_data_directory(tmp_path):
    readonly = tmp_path / "ro"
    readonly.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(readonly)], check=True)
    try:
        result = subprocess.run([str(BUILD / "hafs-chunkserver"), "--data-dir", str(readonly), "--listen",
                                 "127.0.0.1:0", "--master", f"127.0.0.1:{free_port()}", "--insecure"],
                                capture_output=True, text=True, timeout=30)
    finally:
        subprocess.run(["umount", str(readonly)], check=True)
    assert result.returncode != 0
    assert str(readonly) in result.stderr


def test_bad_options_are_refused(tmp_path):
    for binary in ["hafs-master", "hafs-chunkserver", "hafs-mount", "hafs"]:
        result = subprocess.run([str(BUILD / binary), "--no-such-option"], capture_output=True, text=True, timeout=30)
        assert result.returncode != 0, binary
        assert "no-such-option" in result.stderr, binary
        help_text = subprocess.run([str(BUILD / binary), "--help"], capture_output=True, text=True, timeout=30)
        assert help_text.returncode == 0 and "--config" in help_text.stdout, binary
    # A negative count for an unsigned option is refused, not read as a huge number.
    for binary, option in [("hafs-master", "--goal"), ("hafs-chunkserver", "--open-files")]:
        result = subprocess.run([str(BUILD / binary), option, "-1"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and "('-1')" in result.stderr and option[2:] in result.stderr, result.stderr


def test_bad_config_files_stop_daemons_naming_file_key_and_reason(tmp_path):
    config = tmp_path / "daemon.conf"
    mountpoint = str(tmp_path)  # hafs-mount's only positional argument
    for binary, bad_value, args in [("hafs-master", "goal = many", []), ("hafs-chunkserver", "workers = lots", []),
                                    ("hafs-mount", "threads = some", [mountpoint])]:
        negative = {"hafs-master": "goal = -1", "hafs-chunkserver": "open-files = -1"}.get(binary, bad_value)
        for text, key, reason in [("no-such-key = 1\n", "no-such-key", "unrecognised"),
                                  (bad_value + "\n", bad_value.split(" ")[0], "invalid"),
                                  (negative + "\n", negative.split(" ")[0], "invalid")]:  # not a huge unsigned count
            config.write_text(text)
            result = subprocess.run([str(BUILD / binary), "--config", str(config), *args],
                                    capture_output=True, text=True, timeout=30)
            assert result.returncode == 2, (binary, text, result.stderr)
            assert str(config) in result.stderr and key in result.stderr and reason in result.stderr, result.stderr


def test_bad_metrics_address_stops_daemons(tmp_path):
    common = ["--metrics-listen", "no-port", "--data-dir", str(tmp_path), "--listen", "127.0.0.1:0", "--insecure"]
    for binary, extra in [("hafs-master", []), ("hafs-chunkserver", ["--master", f"127.0.0.1:{free_port()}"])]:
        result = subprocess.run([str(BUILD / binary), *common, *extra], capture_output=True, text=True, timeout=30)
        assert result.returncode != 0, binary
        assert "--metrics-listen" in result.stderr and "no-port" in result.stderr, result.stderr


GARBAGE = [b"", b"\xff" * 7, b"\x0a\xff\xff\xff\xff\x0f", os.urandom(4096), b"\x08\x01\xa2\x01\x05hello"]


def test_malformed_messages_do_not_hurt_daemons(shared_cluster, wire):
    path = shared_cluster.mnt / "survivor"
    digest = write_random(path, 3 * MiB, seed=9)
    for name in ["master1", "cs1"]:
        for garbage in GARBAGE:
            shared_cluster.call(name, garbage, timeout_ms=200)
            shared_cluster.call(name, garbage, b"extra", timeout_ms=200)
        call_raw(shared_cluster.address(name), b"a", 200, [b"b", b"c", b"d", b"e"],  # too many frames
                 curve=shared_cluster.curve(name))
    # Every daemon still serves: metadata and data through the mount, status through the CLI.
    assert sha256_of(path) == digest
    (shared_cluster.mnt / "after-garbage").write_bytes(b"ok")
    assert shared_cluster.hafs_json("status")["chunkservers"]["up"] == 3
    for name in ["master1", "cs1", "cs2", "cs3"]:
        assert os.path.exists(f"/proc/{shared_cluster.pid(name)}")


def reply_of(wire, frames):
    envelope = wire.Envelope()
    envelope.ParseFromString(frames[0])
    return envelope.reply


def test_out_of_range_requests_get_errors(shared_cluster, wire):
    request = wire.Envelope(request_id=1)
    request.read_chunk.chunk_id = 0xDEADBEEF
    request.read_chunk.chunk_version = 1
    request.read_chunk.length = 4096
    request.read_chunk.token.CopyFrom(make_token(wire, token_key(shared_cluster), 0xDEADBEEF, 1, READ))
    reply = reply_of(wire, shared_cluster.call("cs1", request.SerializeToString()))
    assert reply.error == errno.ENOENT

    request = wire.Envelope(request_id=2)
    request.read_chunk.chunk_id = 1
    request.read_chunk.offset = 64 * MiB
    request.read_chunk.length = 1
    reply = reply_of(wire, shared_cluster.call("cs1", request.SerializeToString()))
    assert reply.error == errno.EINVAL

    request = wire.Envelope(request_id=3)
    request.write_lease.inode = 987654321
    reply = reply_of(wire, shared_cluster.call("master1", request.SerializeToString()))
    assert reply.error == errno.ENOENT

    request = wire.Envelope(request_id=4)
    request.lookup.parent = 1
    request.lookup.name = b"a/b"
    reply = reply_of(wire, shared_cluster.call("master1", request.SerializeToString()))
    assert reply.error == errno.EINVAL


def test_full_chunkservers_give_enospc_and_get_no_chunks(request):
    cluster = make_cluster(request, env={"HAFS_CHUNKSERVER_ARGS": "--reserve-mb 100000000"})
    wait_until(lambda: all(cs["state"] == "full" for cs in cluster.hafs_json("chunkservers")["chunkservers"]),
               what="chunkservers to report themselves full")
    with pytest.raises(OSError) as failure:
        write_random(cluster.mnt / "no-room", 2 * MiB, seed=1)
    assert failure.value.errno == errno.ENOSPC
    (cluster.mnt / "metadata-still-works").mkdir()


def test_requests_outside_the_protocol_limits_are_refused_before_any_handler(shared_cluster, wire):
    # CheckRequest runs in both daemons before the request reaches a handler.
    request = wire.Envelope(request_id=5)
    request.mkdir.parent = 1
    request.mkdir.name = b"n" * 256
    request.mkdir.mode = 0o755
    reply = reply_of(wire, shared_cluster.call("master1", request.SerializeToString()))
    assert reply.error == errno.ENAMETOOLONG, reply

    request = wire.Envelope(request_id=6)
    request.write_chunk.chunk_id = 1
    request.write_chunk.chunk_version = 1
    for port in range(20):  # a chain no goal needs: not forwarded anywhere
        request.write_chunk.chain.add(chunkserver_id=port + 1, address=f"127.0.0.1:{port + 1}")
    reply = reply_of(wire, shared_cluster.call("cs1", request.SerializeToString(), data=b"x"))
    assert reply.error == errno.EINVAL, reply
