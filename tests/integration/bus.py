"""bus - speak the Wharf bus from Python tests, without pyzmq.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

A small ZMTP 3.0 (NULL mechanism) implementation with a msgpack codec and
the cm_msg envelope (proto/PROTOCOL.md), enough for tests to act as a bus
client or as a fake server:

    from bus import Dealer, Router
    store = Dealer("tcp://127.0.0.1:7401")
    st, body = store.call("session.get", {"name": "default"})

    gw = Router("tcp://127.0.0.1:7403")       # a fake api-gateway
    peer, msg = gw.recv(timeout=5)             # e.g. worker.hello
    gw.reply(peer, msg, 200, {})
    gw.send(peer, "session.stop", {"name": "x"})
    gw.send_raw(peer, [b"session.stop", b"\\xc1", b""])   # malformed

Loopback only. Sockets are blocking with timeouts; Router accepts
connections on a background thread and queues what it reads.
"""
import os
import queue
import secrets
import socket
import struct
import threading
import time

# --------------------------------------------------------------------
# msgpack


def pack(v):
    """Encode a Python value (None, bool, int, float, str, bytes, list,
    tuple, dict with str keys) as msgpack."""
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 0x80:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        if 0 <= v <= 0xffffffff:
            return b"\xce" + struct.pack(">I", v)
        if 0 <= v < 1 << 64:
            return b"\xcf" + struct.pack(">Q", v)
        if -(1 << 31) <= v < 0:
            return b"\xd2" + struct.pack(">i", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode("utf-8")
        n = len(b)
        if n < 32:
            return bytes([0xa0 | n]) + b
        if n < 256:
            return b"\xd9" + bytes([n]) + b
        if n < 65536:
            return b"\xda" + struct.pack(">H", n) + b
        return b"\xdb" + struct.pack(">I", n) + b
    if isinstance(v, (bytes, bytearray)):
        n = len(v)
        if n < 256:
            return b"\xc4" + bytes([n]) + bytes(v)
        if n < 65536:
            return b"\xc5" + struct.pack(">H", n) + bytes(v)
        return b"\xc6" + struct.pack(">I", n) + bytes(v)
    if isinstance(v, (list, tuple)):
        n = len(v)
        head = bytes([0x90 | n]) if n < 16 else (
            b"\xdc" + struct.pack(">H", n) if n < 65536 else b"\xdd" + struct.pack(">I", n))
        return head + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        n = len(v)
        head = bytes([0x80 | n]) if n < 16 else (
            b"\xde" + struct.pack(">H", n) if n < 65536 else b"\xdf" + struct.pack(">I", n))
        return head + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError("cannot pack %r" % type(v))


def unpack(data):
    """Decode one msgpack value that fills `data`; raises ValueError."""
    v, pos = _unpack(data, 0)
    if pos != len(data):
        raise ValueError("trailing bytes")
    return v


def _unpack(d, p):
    if p >= len(d):
        raise ValueError("truncated")
    c = d[p]
    p += 1

    def take(n):
        if p + n > len(d):
            raise ValueError("truncated")
        return d[p:p + n]
    if c < 0x80:
        return c, p
    if c >= 0xe0:
        return c - 0x100, p
    if 0xa0 <= c <= 0xbf:
        n = c & 0x1f
        return take(n).decode("utf-8"), p + n
    if 0x90 <= c <= 0x9f:
        return _unpack_seq(d, p, c & 0x0f)
    if 0x80 <= c <= 0x8f:
        return _unpack_map(d, p, c & 0x0f)
    if c == 0xc0:
        return None, p
    if c == 0xc2:
        return False, p
    if c == 0xc3:
        return True, p
    fixed = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q", 0xd0: ">b",
             0xd1: ">h", 0xd2: ">i", 0xd3: ">q", 0xca: ">f", 0xcb: ">d"}
    if c in fixed:
        n = struct.calcsize(fixed[c])
        return struct.unpack(fixed[c], take(n))[0], p + n
    if c in (0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6):
        w = {0xd9: 1, 0xda: 2, 0xdb: 4, 0xc4: 1, 0xc5: 2, 0xc6: 4}[c]
        n = int.from_bytes(take(w), "big")
        p += w
        if p + n > len(d):
            raise ValueError("truncated")
        raw = d[p:p + n]
        return (raw.decode("utf-8") if c >= 0xd9 else bytes(raw)), p + n
    if c in (0xdc, 0xdd):
        w = 2 if c == 0xdc else 4
        return _unpack_seq(d, p + w, int.from_bytes(take(w), "big"))
    if c in (0xde, 0xdf):
        w = 2 if c == 0xde else 4
        return _unpack_map(d, p + w, int.from_bytes(take(w), "big"))
    raise ValueError("unsupported msgpack byte 0x%02x" % c)


def _unpack_seq(d, p, n):
    out = []
    for _ in range(n):
        v, p = _unpack(d, p)
        out.append(v)
    return out, p


def _unpack_map(d, p, n):
    out = {}
    for _ in range(n):
        k, p = _unpack(d, p)
        v, p = _unpack(d, p)
        out[k] = v
    return out, p


# --------------------------------------------------------------------
# ZMTP 3.0, NULL mechanism


def _greeting():
    return (b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00")
            + b"\x00" + b"\x00" * 31)


def _frame(body, more=False, command=False):
    flags = (1 if more else 0) | (4 if command else 0)
    if len(body) > 255:
        return bytes([flags | 2]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def _ready(socket_type, identity=None):
    props = {"Socket-Type": socket_type.encode()}
    if identity is not None:
        props["Identity"] = identity
    body = b"\x05READY"
    for k, v in props.items():
        body += bytes([len(k)]) + k.encode() + struct.pack(">I", len(v)) + v
    return _frame(body, command=True)


class _Conn:
    """One ZMTP connection over a connected TCP socket."""

    def __init__(self, sock, socket_type, identity=None):
        self.sock = sock
        self.buf = b""
        self.peer_identity = b""
        sock.sendall(_greeting())
        greet = self._read(64)
        if greet[0] != 0xff or greet[9] != 0x7f or greet[10] < 3:
            raise ValueError("not a ZMTP 3 peer")
        sock.sendall(_ready(socket_type, identity))
        while True:
            flags, body = self._read_frame()
            if flags & 4:
                if body[1:1 + body[0]] == b"READY":
                    self.peer_identity = self._props(body[1 + body[0]:]).get("Identity", b"")
                    break
                if body[1:1 + body[0]] == b"ERROR":
                    raise ValueError("peer refused the handshake")

    @staticmethod
    def _props(b):
        out = {}
        p = 0
        while p < len(b):
            n = b[p]
            name = b[p + 1:p + 1 + n].decode()
            p += 1 + n
            m = struct.unpack(">I", b[p:p + 4])[0]
            out[name] = b[p + 4:p + 4 + m]
            p += 4 + m
        return out

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("peer closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read_frame(self):
        flags = self._read(1)[0]
        if flags & 2:
            size = struct.unpack(">Q", self._read(8))[0]
        else:
            size = self._read(1)[0]
        return flags, self._read(size)

    def recv_frames(self):
        """Read one message (list of frames), skipping commands (PING gets
        a PONG)."""
        frames = []
        while True:
            flags, body = self._read_frame()
            if flags & 4:
                name = body[1:1 + body[0]]
                if name == b"PING":
                    ctx = body[1 + body[0] + 2:]
                    self.sock.sendall(_frame(b"\x04PONG" + ctx, command=True))
                continue
            frames.append(body)
            if not flags & 1:
                return frames

    def send_frames(self, frames):
        out = b""
        for i, f in enumerate(frames):
            out += _frame(bytes(f), more=i < len(frames) - 1)
        self.sock.sendall(out)


def _endpoint(ep):
    assert ep.startswith("tcp://"), ep
    host, port = ep[6:].rsplit(":", 1)
    assert host in ("127.0.0.1", "localhost"), "loopback only"
    return "127.0.0.1", int(port)


# --------------------------------------------------------------------
# Envelope

_ids = secrets.token_hex(6)
_counter = [0]


def new_id():
    _counter[0] += 1
    return "py%s%08x" % (_ids, _counter[0])


def encode(type_, body=None, header=None):
    """Frames of a cm_msg request (header fields may be overridden)."""
    h = {"v": 1, "id": new_id(), "ts_ms": int(time.time() * 1000)}
    h.update(header or {})
    return [type_.encode(), pack(h), pack(body if body is not None else {})]


class Msg:
    """A decoded bus message."""

    def __init__(self, frames):
        if len(frames) < 3:
            raise ValueError("too few frames")
        self.type = frames[0].decode()
        self.header = unpack(frames[1])
        self.body = unpack(frames[2])
        self.blobs = frames[3:]

    @property
    def id(self):
        return self.header.get("id")

    @property
    def corr(self):
        return self.header.get("corr")

    @property
    def st(self):
        return self.header.get("st", 0)

    @property
    def reason(self):
        return self.header.get("reason")

    def __repr__(self):
        return "Msg(%s st=%s %r)" % (self.type, self.st, self.body)


class Dealer:
    """A DEALER connected to one endpoint, for request/reply."""

    def __init__(self, endpoint, identity=None, timeout=20):
        # The server may still be starting: retry the connection.
        deadline = time.time() + timeout
        while True:
            try:
                s = socket.create_connection(_endpoint(endpoint), timeout=timeout)
                break
            except ConnectionRefusedError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.conn = _Conn(s, "DEALER", identity.encode() if identity else None)

    def send(self, type_, body=None, header=None):
        frames = encode(type_, body, header)
        self.conn.send_frames(frames)
        return unpack(frames[1])["id"]

    def recv(self, timeout=10):
        self.conn.sock.settimeout(timeout)
        return Msg(self.conn.recv_frames())

    def call(self, type_, body=None, timeout=10):
        """Send a request; return (st, body) of its reply."""
        rid = self.send(type_, body, {"deadline_ms": int((time.time() + timeout) * 1000)})
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return 504, {}
            m = self.recv(left)
            if m.corr == rid:
                return m.st, m.body

    def call_msg(self, type_, body=None, blobs=(), timeout=10):
        """Send a request with blob frames (bytes); return the reply Msg
        (blobs in .blobs), or None on timeout."""
        frames = encode(type_, body,
                        {"deadline_ms": int((time.time() + timeout) * 1000)})
        rid = unpack(frames[1])["id"]
        self.conn.send_frames(frames + [bytes(b) for b in blobs])
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                m = self.recv(left)
            except socket.timeout:
                return None
            if m.corr == rid:
                return m

    def close(self):
        self.conn.sock.close()


class Router:
    """A ROUTER bound on a loopback endpoint: a fake server. Messages from
    every peer land in one queue as (peer identity, Msg or frames)."""

    def __init__(self, endpoint):
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(_endpoint(endpoint))
        self.lsock.listen(16)
        self.peers = {}
        self.inbox = queue.Queue()
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, s):
        try:
            conn = _Conn(s, "ROUTER")
            with self.lock:
                self.peers[conn.peer_identity] = conn
            while True:
                frames = conn.recv_frames()
                try:
                    item = Msg(frames)
                except ValueError:
                    item = frames
                self.inbox.put((conn.peer_identity, item))
        except (OSError, ConnectionError, ValueError):
            pass

    def recv(self, timeout=10, type_=None):
        """Next message (optionally of one type; others are dropped)."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("no %s within %ss" % (type_ or "message", timeout))
            try:
                peer, m = self.inbox.get(timeout=left)
            except queue.Empty:
                continue
            if type_ is None or (isinstance(m, Msg) and m.type == type_):
                return peer, m

    def _conn(self, peer):
        with self.lock:
            return self.peers[peer if isinstance(peer, bytes) else peer.encode()]

    def send_raw(self, peer, frames):
        self._conn(peer).send_frames(frames)

    def send(self, peer, type_, body=None, header=None):
        frames = encode(type_, body, header)
        self.send_raw(peer, frames)
        return unpack(frames[1])["id"]

    def reply(self, peer, msg, st=200, body=None, reason=None):
        h = {"corr": msg.id, "st": st}
        if reason:
            h["reason"] = reason
        self.send_raw(peer, encode(msg.type, body or {}, h))

    def call(self, peer, type_, body=None, timeout=10):
        """Send a request to a peer; return its reply Msg. Other messages
        met meanwhile (heartbeats...) are answered 200 when they are hellos
        or heartbeats and otherwise dropped."""
        rid = self.send(peer, type_, body, {"deadline_ms": int((time.time() + timeout) * 1000)})
        deadline = time.time() + timeout
        while True:
            p, m = self.recv(max(0.01, deadline - time.time()))
            if isinstance(m, Msg) and m.corr == rid:
                return m
            if isinstance(m, Msg) and m.type in ("worker.hello", "worker.heartbeat") and not m.corr:
                self.reply(p, m, 200, {})

    def close(self):
        self.closed = True
        self.lsock.close()
        with self.lock:
            for c in self.peers.values():
                try:
                    c.sock.close()
                except OSError:
                    pass


if __name__ == "__main__":
    # Self test of the codec.
    for v in [None, True, False, 0, 1, 127, 128, -1, -33, 70000, -70000, 1 << 40,
              -(1 << 40), 1.5, "", "x" * 40, "y" * 300, b"\x00\x01", [1, [2]],
              {"a": {"b": [1, "c"]}}, list(range(20)), {str(i): i for i in range(20)}]:
        assert unpack(pack(v)) == v, v
    print("bus codec ok")
    os._exit(0)
