"""wsclient - a small RFC 6455 client (stdlib only) for the /ws tests.

Copyright (c) 2026 the Wharf authors. Apache-2.0.
"""
import base64
import hashlib
import json
import os
import socket
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class HandshakeError(Exception):
    def __init__(self, status, headers, body):
        super().__init__("handshake answered %s" % status)
        self.status, self.headers, self.body = status, headers, body


class WS:
    """Connect to ws://127.0.0.1:port + path. Raises HandshakeError when the
    server does not answer 101."""

    def __init__(self, port, path, headers=None, version="13", timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        h = {"Host": "127.0.0.1:%d" % port, "Upgrade": "websocket",
             "Connection": "Upgrade", "Sec-WebSocket-Key": key,
             "Sec-WebSocket-Version": version}
        h.update(headers or {})
        req = "GET %s HTTP/1.1\r\n" % path
        req += "".join("%s: %s\r\n" % kv for kv in h.items() if kv[1] is not None)
        self.sock.sendall((req + "\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1]) if lines[0] else 0
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if self.status != 101:
            body = self.buf
            n = int(self.headers.get("content-length", len(body)))
            while len(body) < n:
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                body += chunk
            self.sock.close()
            try:
                body = json.loads(body)
            except ValueError:
                pass
            raise HandshakeError(self.status, self.headers, body)
        want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        if self.headers.get("sec-websocket-accept") != want:
            raise AssertionError("bad Sec-WebSocket-Accept %r" % self.headers)

    def send_frame(self, opcode, payload=b"", fin=True, masked=True):
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        m = 0x80 if masked else 0
        if n < 126:
            hdr = struct.pack("!BB", b0, m | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, m | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, m | 127, n)
        if masked:
            mask = os.urandom(4)
            payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
            hdr += mask
        self.sock.sendall(hdr + payload)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self, timeout=10):
        """(opcode, payload) of the next frame; socket.timeout when none."""
        self.sock.settimeout(timeout)
        b0, b1 = self._need(2)
        if b1 & 0x80:
            raise AssertionError("server frame masked")
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._need(8))[0]
        if not b0 & 0x80:
            raise AssertionError("server frame fragmented")
        return b0 & 0x0F, self._need(n)

    def recv_event(self, timeout=10):
        """Next text frame as JSON, answering nothing else."""
        while True:
            op, data = self.recv_frame(timeout)
            if op == 1:
                return json.loads(data)
            if op == 8:
                raise EOFError("server closed: %r" % data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
