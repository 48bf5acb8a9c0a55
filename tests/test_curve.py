"""CurveZMQ on every connection (docs/security.md): a process without a key cannot even
connect, and a key may make only the requests of its role. Keys are added and revoked with
SIGHUP. Requests are sent directly (pyzmq), as a rogue process would."""

import errno
import os
import signal
import subprocess

import zmq

from conftest import BUILD, call_raw, key_pair, wait_until
from test_bad_input import reply_of


def new_key_pair():
    return zmq.curve_keypair()


def get_attr(wire):
    request = wire.Envelope(request_id=11)
    request.get_attr.inode = 1
    return request.SerializeToString()


def refused_connections(cluster, name):
    return cluster.log(name).count("refused a connection")


def test_a_process_without_a_known_key_cannot_connect(shared_cluster, wire):
    cluster = shared_cluster
    for name in ("master1", "cs1"):
        before = refused_connections(cluster, name)
        # Plaintext: the CURVE server drops the handshake.
        assert call_raw(cluster.address(name), get_attr(wire), timeout_ms=500) is None
        # CURVE with the right server key but a key of its own nobody authorized.
        server_key = cluster.curve(name)[0]
        assert call_raw(cluster.address(name), get_attr(wire), 500, curve=(server_key, new_key_pair())) is None
        wait_until(lambda: refused_connections(cluster, name) > before, timeout_s=10,
                   what=f"{name} to log the refused handshake")
    # The cluster's own keys get in.
    assert reply_of(wire, cluster.call(cluster.active_master(), get_attr(wire))).error == 0


def test_each_key_makes_only_the_requests_of_its_role(shared_cluster, wire):
    cluster = shared_cluster
    active = cluster.active_master()

    def refused(name, envelope, key):
        reply = reply_of(wire, cluster.call(name, envelope.SerializeToString(), key=key))
        return reply.error == errno.EACCES and b"may not make" in reply.error_message

    register = wire.Envelope(request_id=1)
    register.register.chunkserver_uuid = "impostor"
    register.register.address = "127.0.0.1:9"
    hello = wire.Envelope(request_id=2)
    hello.master_hello.cluster_id = "hafs-local"
    mode = wire.Envelope(request_id=3)
    mode.chunkserver_mode.chunkserver = "1"
    mkdir = wire.Envelope(request_id=4)
    mkdir.mkdir.parent = 1
    mkdir.mkdir.name = b"by-a-chunkserver"
    lease = wire.Envelope(request_id=5)
    lease.leadership_lease.master_address = "127.0.0.1:9"
    lease.leadership_lease.epoch = 1
    copy = wire.Envelope(request_id=6)
    copy.replicate_chunk.chunk_id = 1
    copy.replicate_chunk.source = "127.0.0.1:9"

    assert refused(active, register, "client")  # a client cannot join as a chunkserver
    assert refused(active, hello, "client")  # nor speak as a master
    assert refused(active, mode, "client")  # nor decommission (admin only)
    assert refused(active, mkdir, "cs1")  # a chunkserver makes no file system requests
    assert refused(active, register, "admin")
    assert refused("cs1", lease, "client")  # leadership leases are the masters' alone
    assert refused("cs1", copy, "client")  # and so are copy orders
    assert refused("cs1", lease, "cs2")
    assert not (cluster.mnt / "by-a-chunkserver").exists()
    assert cluster.hafs_json("status")["chunkservers"]["total"] == 3
    assert "may not make a register request" in cluster.log(active)


def test_a_chunkserver_key_cannot_register_as_another_chunkserver(shared_cluster, wire):
    cluster = shared_cluster
    active = cluster.active_master()
    uuid = (cluster.root / "cs2" / "data" / "chunkserver.uuid").read_text().strip()
    register = wire.Envelope(request_id=1)
    register.register.chunkserver_uuid = uuid
    register.register.address = "127.0.0.1:9"
    reply = reply_of(wire, cluster.call(active, register.SerializeToString(), key="cs1"))
    assert reply.error == errno.EACCES and b"joined with the key" in reply.error_message, reply
    heartbeat = wire.Envelope(request_id=2)
    heartbeat.heartbeat.chunkserver_id = next(cs["id"] for cs in cluster.hafs_json("chunkservers")["chunkservers"]
                                              if cs["address"] == cluster.address("cs2"))
    reply = reply_of(wire, cluster.call(active, heartbeat.SerializeToString(), key="cs1"))
    assert reply.error == errno.EACCES, reply
    addresses = {cs["address"] for cs in cluster.hafs_json("chunkservers")["chunkservers"]}
    assert addresses == {cluster.address(name) for name in ("cs1", "cs2", "cs3")}


def test_keys_are_added_and_revoked_with_sighup(shared_cluster, wire):
    cluster = shared_cluster
    active = cluster.active_master()
    authorized = cluster.keys / "authorized_keys"
    original = authorized.read_text()
    keys = new_key_pair()
    curve = (cluster.curve(active)[0], keys)

    def connect_and_ask():
        frames = call_raw(cluster.address(active), get_attr(wire), 300, curve=curve)
        return reply_of(wire, frames) if frames is not None else None

    def reload():
        for name in cluster.master_names():
            os.kill(cluster.pid(name), signal.SIGHUP)

    socket = zmq.Context.instance().socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.curve_serverkey, (socket.curve_publickey, socket.curve_secretkey) = curve

    def ask_on_the_kept_connection():
        socket.send(get_attr(wire), zmq.NOBLOCK)
        return reply_of(wire, socket.recv_multipart()) if socket.poll(300) else None

    try:
        assert connect_and_ask() is None  # unknown: the handshake is refused
        authorized.write_text(original + f"client {keys[0].decode()} added-by-test\n")
        reload()
        added = wait_until(connect_and_ask, timeout_s=15, what="the added key to be accepted")
        assert added.error == 0, added
        socket.connect(f"tcp://{cluster.address(active)}")
        assert wait_until(ask_on_the_kept_connection, timeout_s=10, what="an answer").error == 0
        authorized.write_text(original)
        reload()
        # The open connection stays, but what it asks is refused from the reload on.
        def refused():
            reply = ask_on_the_kept_connection()
            return reply is not None and reply.error == errno.EACCES

        wait_until(refused, timeout_s=15, what="the revoked key's requests to be refused")
        assert connect_and_ask() is None  # and it cannot connect again
    finally:
        authorized.write_text(original)
        reload()
        socket.close()
    assert reply_of(wire, cluster.call(active, get_attr(wire))).error == 0


def test_plaintext_only_with_insecure_and_a_warning(tmp_path, wire):
    port_file = tmp_path / "port"
    master = subprocess.Popen([str(BUILD / "hafs-master"), "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data"),
                               "--port-file", str(port_file), "--metrics-listen", "127.0.0.1:0", "--insecure"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: port_file.exists() and port_file.read_text().strip(), what="the master to listen")
        reply = reply_of(wire, call_raw(port_file.read_text().strip(), get_attr(wire), 3000))
        assert reply.error == 0, reply
    finally:
        master.terminate()
        output = master.communicate(timeout=30)[0]
    assert "--insecure: connections are plaintext" in output, output
    # Without --insecure and without keys, no daemon starts.
    token_key = tmp_path / "token.key"
    subprocess.run([str(BUILD / "hafs"), "token-key", str(token_key)], check=True, capture_output=True)
    result = subprocess.run([str(BUILD / "hafs-master"), "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d2"),
                             "--metrics-listen", "127.0.0.1:0", "--token-key-file", str(token_key),
                             "--key-file", str(tmp_path / "none.key")], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "none.key" in result.stderr, result.stderr
    # Nor with tokens off.
    result = subprocess.run([str(BUILD / "hafs-master"), "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d3"),
                             "--metrics-listen", "127.0.0.1:0", "--token-key-file", ""],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "only with --insecure" in result.stderr, result.stderr


def test_keygen_makes_a_private_key_and_the_authorized_keys_line(tmp_path):
    path = tmp_path / "cs9.key"
    result = subprocess.run([str(BUILD / "hafs"), "keygen", str(path), "--role", "chunkserver", "--name", "cs9"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    public_key, _ = key_pair(path)
    assert result.stdout == f"chunkserver {public_key.decode()} cs9\n"
    assert os.stat(path).st_mode & 0o777 == 0o600
    again = subprocess.run([str(BUILD / "hafs"), "keygen", str(path)], capture_output=True, text=True, timeout=30)
    assert again.returncode != 0 and key_pair(path)[0] == public_key  # never replaced
