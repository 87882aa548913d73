"""The client's DEALER socket: options, CURVE keys, and what its handshake events mean."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Optional, Union

import zmq

from .wire import MAX_BODY_BYTES

#: the handshake events a client watches (the C++ HandshakeWatch's)
HANDSHAKE_EVENTS = (
    zmq.EVENT_HANDSHAKE_SUCCEEDED
    | zmq.EVENT_HANDSHAKE_FAILED_AUTH
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
)

_Z85 = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")


@dataclass(frozen=True)
class CurveKeys:
    """What a client needs to talk to a broker started with ``--curve-secret``."""

    server_key: str  #: the broker's public key (broker.pub), 40 Z85 characters
    public: str  #: this client's public key (listed in the broker's --clients-allow)
    secret: str  #: this client's secret key


def is_curve_key(text: str) -> bool:
    """A 40-character Z85 key."""
    return len(text) == 40 and set(text) <= _Z85


def curve_keys(
    server_key: Optional[Union[str, bytes]],
    public: Optional[Union[str, bytes]],
    secret: Optional[Union[str, bytes]],
) -> Optional[CurveKeys]:
    """The keys of a client, or None without any. The public key may be left out: it is
    derived from the secret one. Raises ValueError when the set is incomplete or malformed."""
    if server_key is None and secret is None and public is None:
        return None
    if server_key is None or secret is None:
        raise ValueError("curve_server_key and curve_secret go together: give both or neither")
    as_text = [k.decode("ascii") if isinstance(k, bytes) else k for k in (server_key, secret)]
    for key in as_text:
        if not is_curve_key(key):
            raise ValueError("a CURVE key is 40 Z85 characters (make one with `ccmesh keygen`)")
    derived = zmq.curve_public(as_text[1].encode("ascii")).decode("ascii")
    if public is not None:
        given = public.decode("ascii") if isinstance(public, bytes) else public
        if given != derived:
            raise ValueError("curve_public is not the public key of curve_secret")
    return CurveKeys(as_text[0], derived, as_text[1])


def read_key_file(path: str, check_private: bool = False) -> str:
    """The key of a ``ccmesh keygen`` file (``#`` comment lines allowed; a key may itself
    start with ``#``). ``check_private``: refuse a secret file others can read."""
    if check_private and os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(f"secret key file {path} can be read by other users; run chmod 600 {path}")
    with open(path, encoding="ascii") as file:
        for number, line in enumerate(file, 1):
            words = line.split()
            if not words:
                continue
            if is_curve_key(words[0]):
                return words[0]
            if words[0].startswith("#"):
                continue
            raise ValueError(f"key file {path} line {number}: expected a 40-character Z85 key")
    raise ValueError(f"key file {path} holds no key (make one with `ccmesh keygen NAME`)")


def load_curve_keys(server_key_file: str, secret_file: str) -> CurveKeys:
    """Keys from the files ``ccmesh keygen`` writes: the broker's .pub and this client's .key."""
    keys = curve_keys(read_key_file(server_key_file), None, read_key_file(secret_file, True))
    assert keys is not None
    return keys


def make_socket(context: zmq.Context, broker: str, curve: Optional[CurveKeys]) -> zmq.Socket:
    """A DEALER for ``broker``, configured as the C++ client's, not yet connected."""
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.MAXMSGSIZE, MAX_BODY_BYTES + 4096)
    if curve is not None:
        socket.setsockopt(zmq.CURVE_SERVERKEY, curve.server_key.encode("ascii"))
        socket.setsockopt(zmq.CURVE_PUBLICKEY, curve.public.encode("ascii"))
        socket.setsockopt(zmq.CURVE_SECRETKEY, curve.secret.encode("ascii"))
    return socket


def handshake_verdict(event: int, value: int, curve: bool) -> Optional[str]:
    """What a monitor event says: "" for a handshake that succeeded, the reason for one the
    broker refused, None for nothing about keys (a plain connection closed mid-handshake:
    a broker that died or restarted; the socket reconnects)."""
    if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
        return ""
    if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        return (
            f"the broker refused this key (ZAP status {value}): it is not in the broker's "
            "allow-list for this port"
        )
    if event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
        if value == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            return (
                "security mismatch: one side uses CURVE keys and the other does not (give "
                "curve keys, or none)"
            )
        return f"the security handshake failed (protocol error {value}); check the CURVE keys"
    if event == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL and curve:
        return (
            "the broker closed the connection during the security handshake (wrong "
            "curve_server_key?)"
        )
    return None
