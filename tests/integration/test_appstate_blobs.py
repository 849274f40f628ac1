"""test_appstate_blobs - app-state snapshots and external mutation blobs,
through the full stack with wa-sim's phone.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Session a1 is a companion of account A. Then:
- the phone makes labels 7 and 8 (two patches of `regular`): a1 emits
  label.upsert for each;
- the phone makes a snapshot of `regular` (wa-sim puts it on its media
  host as an md-app-state blob);
- the phone makes label 9 with the patch's mutations in an external blob:
  a1 downloads it through media-service, verifies it and emits
  label.upsert for label 9;
- a new companion a2 fetches `regular` from version 0: wa-sim answers with
  the snapshot (version 2) and patch 3 only; a2 downloads both blobs, and
  its labels are 7, 8 and 9 (7 and 8 can only come from the snapshot);
- the phone makes a new app-state key it does not share and a patch
  under it: a1 and a2 lack the key, ask the phone for it
  (APP_STATE_SYNC_KEY_REQUEST), the phone answers with a key share, and
  the patch applies (label 11);
- a blob that cannot be downloaded (never put on the media host, or
  expired) is logged, its patch or snapshot refused, the collection stays
  where it was, and the sessions go on working.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import account, hooks, link_qr, stack  # noqa: E402
from wasim import WaSim  # noqa: E402

A = "15550007101"
EVENTS = ["session.status", "label.upsert"]
TMP = tempfile.mkdtemp(prefix="wharf-appstate-blobs-")
CERT = os.path.join(TMP, "media.crt")


def create(s, name, rx):
    st, body, _ = s.api("POST", "/api/sessions", {
        "name": name, "start": True,
        "config": {"webhooks": [{"url": rx.url + "/" + name, "events": EVENTS}]}})
    check(st == 201, (st, body))


def label(id_, name, color):
    return {"index": ["label_edit", id_], "value": {"name": name, "color": color}}


def phone_act(sim, actions, external=False):
    """The phone acts; external True: mutations in an external blob,
    "gone": ... that was never put on the media host."""
    st, body = sim.ctl("POST", "/accounts/%s/app-state/actions" % A,
                       {"actions": actions, "external": external})
    check(st == 200, (st, body))
    return body


def upserts(rx, name):
    return {p["id"]: p for p in (e["payload"] for e in hooks(rx, name, "label.upsert"))}


def labels(s, name):
    st, body, _ = s.api("GET", "/api/%s/labels" % name)
    check(st == 200, (st, body))
    return sorted(l["id"] for l in body)


def test_appstate_blobs():
    with WaSim("--media-cert", CERT) as sim, \
            stack(sim, MEDIA_CA_FILE=CERT) as s, Receiver() as rx:
        account(sim, A, "Alice")
        create(s, "a1", rx)
        link_qr(s, sim, "a1", A)

        # a1's first sync is over (what comes with it has no events)
        def fetched():
            st, body = sim.ctl("GET", "/accounts/%s/app-state" % A)
            return [f for f in body["fetches"] if f["collection"] == "regular"]
        wait_for(fetched, 30, what="a1's first fetch of regular")
        # two patches of `regular`, inline
        phone_act(sim, [label("7", "Seven", 1)])
        phone_act(sim, [label("8", "Eight", 2)])
        wait_for(lambda: {"7", "8"} <= set(upserts(rx, "a1")), 30,
                 what="labels 7 and 8 at a1")

        # the phone's snapshot of `regular` at version 2
        st, snap = sim.ctl("POST", "/accounts/%s/app-state/regular/snapshot" % A)
        check(st == 200 and snap == {"collection": "regular", "version": 2},
              (st, snap))
        st, body = sim.ctl("POST", "/accounts/%s/app-state/nothing/snapshot" % A)
        check(st == 404, (st, body))

        # label 9 with the patch's mutations in an external blob
        body = phone_act(sim, [label("9", "Nine", 3)], external=True)
        check(body["patches"] == [{"collection": "regular", "version": 3}], body)
        nine = wait_for(lambda: upserts(rx, "a1").get("9"), 30,
                        what="label 9 from the external blob at a1")
        check(nine == {"id": "9", "name": "Nine", "color": 3,
                       "colorHex": nine["colorHex"]}
              and nine["colorHex"].startswith("#"), nine)
        wait_for(lambda: labels(s, "a1") == ["7", "8", "9"], 30,
                 what="labels 7, 8, 9 at a1")

        # a new companion: the snapshot, then patch 3
        create(s, "a2", rx)
        link_qr(s, sim, "a2", A)
        wait_for(lambda: labels(s, "a2") == ["7", "8", "9"], 30,
                 what="labels 7, 8, 9 at a2 (snapshot and external patch)")
        st, state = sim.ctl("GET", "/accounts/%s/app-state" % A)
        check(st == 200, (st, state))
        served = [f for f in state["fetches"]
                  if f["collection"] == "regular" and f.get("snapshot")]
        check(len(served) == 1 and served[0]["version"] == 0
              and served[0]["snapshot"] == 2, state["fetches"])
        text = s.proc("session-worker-0").text()
        check('msg="app-state snapshot applied"' in text
              and "version=2 records=2" in text, "snapshot applied at a2")
        # the snapshot's labels came with the first sync: no events
        check(set(upserts(rx, "a2")) <= {"9"}, upserts(rx, "a2"))

        # the phone's new key, not shared: a patch under it makes a1 and a2
        # ask the phone for it (APP_STATE_SYNC_KEY_REQUEST peer message);
        # the phone answers each with a key share, and the patch applies
        st, key = sim.ctl("POST", "/accounts/%s/app-state/key" % A)
        check(st == 200 and len(key["keyId"]) == 12, (st, key))
        body = phone_act(sim, [label("11", "Eleven", 5)])
        check(body["patches"] == [{"collection": "regular", "version": 4}], body)
        eleven = wait_for(lambda: upserts(rx, "a1").get("11"), 30,
                          what="label 11 under the new key at a1")
        check(eleven["name"] == "Eleven", eleven)
        wait_for(lambda: labels(s, "a2") == ["11", "7", "8", "9"], 30,
                 what="label 11 at a2")
        st, state = sim.ctl("GET", "/accounts/%s/app-state" % A)
        check(state["keyRequests"]["requests"] >= 2
              and state["keyRequests"]["answered"] >= 2, state["keyRequests"])
        text = s.proc("session-worker-0").text()
        check(text.count("app-state patch under a key we lack, asking for it")
              >= 2, "both asked for the key")

        # a blob gone from the media host: logged, the patch refused, the
        # collection stays where it was, the session goes on
        body = phone_act(sim, [label("10", "Ten", 4)], external="gone")
        check(body["patches"] == [{"collection": "regular", "version": 5}], body)
        wait_for(lambda: s.proc("session-worker-0").text().count(
            'msg="app-state patch refused"') >= 2, 30,
            what="both sessions refuse the patch whose blob is gone")
        text = s.proc("session-worker-0").text()
        check(text.count('reason="external mutations could not be downloaded"')
              == 2, "refused for the download")
        for name in ("a1", "a2"):
            check(labels(s, name) == ["11", "7", "8", "9"], labels(s, name))
            st, me, _ = s.api("GET", "/api/sessions/%s" % name)
            check(st == 200 and me["status"] == "WORKING", (st, me))
        # the snapshot's blob gone too: a new companion logs it, and its
        # collection stays at version 0
        st, body = sim.ctl("POST", "/media/expire", {"all": True})
        check(st == 200 and body["expired"] == 2, (st, body))
        create(s, "a3", rx)
        link_qr(s, sim, "a3", A)
        wait_for(lambda: 'reason="the snapshot could not be downloaded"'
                 in s.proc("session-worker-0").text(), 30,
                 what="a3 could not download the snapshot")
        check(labels(s, "a3") == [], labels(s, "a3"))

if __name__ == "__main__":
    run([test_appstate_blobs])
