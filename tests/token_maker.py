"""Chunk access tokens made in Python with a cluster's token key, for tests that speak the
protocol to chunkservers: the byte layout and MAC of common/access_token.h (libsodium's
crypto_auth, HMAC-SHA-512-256, is HMAC-SHA-512 cut to its first 32 bytes)."""

import hashlib
import hmac
import struct
import time

READ, WRITE = 1, 2  # wire.ChunkAccess bits


def token_key(cluster) -> bytes:
    """The cluster's key: its key file holds 32 raw bytes or 64 hex digits."""
    data = cluster.token_key_file.read_bytes()
    return data if len(data) == 32 else bytes.fromhex(data.decode().strip())


def signed_bytes(token) -> bytes:
    out = b"hafs-chunktok-v1" + struct.pack("<QQIqqI", token.chunk_id, token.chunk_version, token.modes,
                                            token.issued_ms, token.expiry_ms, len(token.chain))
    for address in token.chain:
        out += struct.pack("<I", len(address.encode())) + address.encode()
    return out


def make_token(wire, key: bytes, chunk_id: int, version: int, modes: int, chain=(), lifetime_ms=600_000,
               issued_ms=None):
    """A token as a master with `key` would issue it, `issued_ms` (default now) on the wall clock."""
    issued = int(time.time() * 1000) if issued_ms is None else issued_ms
    token = wire.ChunkToken(chunk_id=chunk_id, chunk_version=version, modes=modes, issued_ms=issued,
                            expiry_ms=issued + lifetime_ms, chain=list(chain))
    token.mac = hmac.new(key, signed_bytes(token), hashlib.sha512).digest()[:32]
    return token
