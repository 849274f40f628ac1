"""test_gateway_ws - the /ws event stream with a real WebSocket client.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

store-service and api-gateway (no worker: events come from the event-gen
tool through the store's event.append, as a worker's would). The client
is tests/integration/wsclient.py (RFC 6455 over a plain socket).
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, check, run  # noqa: E402
from webhooks_util import create_session, event_gen  # noqa: E402
from wsclient import WS, HandshakeError  # noqa: E402

SERVICES = ("store-service", "api-gateway")


def ws(s, query, **kw):
    return WS(s.api_port, "/ws?" + query, **kw)


def refused(s, query, **kw):
    try:
        ws(s, query, **kw).close()
    except HandshakeError as e:
        return e.status, e.headers, e.body
    raise AssertionError("handshake %r was accepted" % query)


def test_handshake_errors():
    with Stack(workers=0, services=SERVICES) as s:
        create_session(s, "hs", [])
        k = "x-api-key=" + s.api_key
        st, _, body = refused(s, "session=hs")
        check(st == 401 and body["statusCode"] == 401, "no key: %s %r" % (st, body))
        st, _, body = refused(s, "session=nope&" + k)
        check(st == 404 and body["message"] == "Session not found", "%s %r" % (st, body))
        st, _, body = refused(s, "session=a%20b&" + k)
        check(st == 400, "bad name: %s" % st)
        st, _, body = refused(s, "events=message,nope&" + k)
        check(st == 400 and "events" in str(body["message"]), repr(body))
        st, _, body = refused(s, "after=3&" + k)
        check(st == 400 and "after" in str(body["message"]), "after with *: %r" % body)
        st, h, _ = refused(s, k, version="8")
        check(st == 426 and h.get("sec-websocket-version") == "13", "version: %s %r" % (st, h))
        # A plain GET is not a handshake
        st, body, h = s.raw("GET", "/ws?" + k)
        check(st == 426 and h.get("Upgrade") == "websocket", "plain GET: %s" % st)
        st, _, body = refused(s, k, headers={"Sec-WebSocket-Key": "short"})
        check(st == 400, "bad key: %s" % st)
        # The key in the header works too
        c = WS(s.api_port, "/ws?session=hs", headers={"X-Api-Key": s.api_key})
        c.close()


def test_stream_and_resume():
    with Stack(workers=0, services=SERVICES) as s:
        create_session(s, "w1", [])
        event_gen(s, 3, session="w1")  # history: not sent to a live stream
        c = ws(s, "session=w1&events=message&x-api-key=" + s.api_key)
        time.sleep(0.3)
        event_gen(s, 5, session="w1")
        got = [c.recv_event() for _ in range(5)]
        for env in got:
            check(env["event"] == "message" and env["session"] == "w1"
                  and env["id"].startswith("evt_") and env["engine"] == "GOWS"
                  and "payload" in env and "timestamp" in env and "me" in env,
                  "envelope %r" % env)
        cursors = [e["cursor"] for e in got]
        check(cursors == list(range(cursors[0], cursors[0] + 5)), "cursors %r" % cursors)
        check(len({e["id"] for e in got}) == 5, "distinct ids")
        # Nothing else comes
        try:
            op, data = c.recv_frame(timeout=0.5)
            check(False, "unexpected frame %r %r" % (op, data))
        except socket.timeout:
            pass
        # The pull feed has the same envelopes
        st, page, _ = s.api("GET", "/api/w1/events", query={"after": str(cursors[0] - 1)})
        check(st == 200 and [e["id"] for e in page["events"]] == [e["id"] for e in got],
              "pull feed agrees: %r" % page)
        c.close()

        # A reconnect with the last cursor seen loses nothing
        event_gen(s, 2, session="w1")
        r = ws(s, "session=w1&after=%d&x-api-key=%s" % (cursors[2], s.api_key))
        again = [r.recv_event() for _ in range(4)]
        check([e["cursor"] for e in again] == [cursors[3], cursors[4], cursors[4] + 1, cursors[4] + 2],
              "resumed %r" % [e["cursor"] for e in again])
        check([e["id"] for e in again[:2]] == [e["id"] for e in got[3:]], "same events")
        r.close()


def test_all_sessions_and_filter():
    with Stack(workers=0, services=SERVICES) as s:
        create_session(s, "a1", [])
        star = ws(s, "session=*&events=message&x-api-key=" + s.api_key)
        other = ws(s, "events=session.status&x-api-key=" + s.api_key)
        time.sleep(0.3)
        event_gen(s, 2, session="a1")
        create_session(s, "a2", [])  # made after the stream opened
        event_gen(s, 2, session="a2")
        seen = sorted((e["session"], e["cursor"]) for e in
                      (star.recv_event() for _ in range(4)))
        check([x[0] for x in seen] == ["a1", "a1", "a2", "a2"], "sessions %r" % seen)
        try:
            op, data = other.recv_frame(timeout=2.5)
            check(op != 1, "filtered stream got %r" % data)
        except socket.timeout:
            pass
        star.close()
        other.close()


def test_control_frames():
    with Stack(workers=0, services=SERVICES) as s:
        create_session(s, "c1", [])
        c = ws(s, "session=c1&x-api-key=" + s.api_key)
        c.send_frame(0x9, b"hi")
        op, data = c.recv_frame()
        check(op == 0xA and data == b"hi", "pong %r %r" % (op, data))
        c.send_frame(0x1, b"ignored text")
        c.send_frame(0x8, struct.pack("!H", 1000) + b"bye")
        op, data = c.recv_frame()
        check(op == 0x8 and struct.unpack("!H", data[:2])[0] == 1000, "close echo %r" % data)
        check(c.sock.recv(10) == b"", "server closed the socket")
        c.close()

        # An unmasked client frame is a protocol error: 1002
        c = ws(s, "session=c1&x-api-key=" + s.api_key)
        c.send_frame(0x1, b"x", masked=False)
        op, data = c.recv_frame()
        check(op == 0x8 and struct.unpack("!H", data[:2])[0] == 1002, "1002 %r" % data)
        c.close()
        # Oversized: 1009
        c = ws(s, "session=c1&x-api-key=" + s.api_key)
        c.sock.sendall(struct.pack("!BBQ", 0x82, 0xFF, 1 << 40) + b"mask")
        op, data = c.recv_frame()
        check(op == 0x8 and struct.unpack("!H", data[:2])[0] == 1009, "1009 %r" % data)
        c.close()

        # Many streams come and go; the gateway keeps serving
        for _ in range(20):
            ws(s, "session=c1&x-api-key=" + s.api_key).close()
        st, _, _ = s.api("GET", "/api/sessions/c1")
        check(st == 200, "gateway still serves")


if __name__ == "__main__":
    run([test_handshake_errors, test_stream_and_resume, test_all_sessions_and_filter,
         test_control_frames])
