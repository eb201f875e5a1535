"""Keys and the audit log, without a server (fast subset)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from kb import audit
from kb.errors import AuthError, InputError
from kb.keys import KeyFile


def test_keys_are_stored_hashed_and_scoped(tmp_path: Path) -> None:
    kf = KeyFile(tmp_path / "keys.json")
    admin, reader = kf.add("ops", "admin"), kf.add("reader", "search")
    raw = (tmp_path / "keys.json").read_text()
    # the secret itself may hold "_" (token_urlsafe): split off the "kb_<id>_" prefix only
    secrets_ = [key.split("_", 2)[2] for key in (admin, reader)]
    assert admin not in raw and reader not in raw and not any(s in raw for s in secrets_)
    assert os.stat(tmp_path / "keys.json").st_mode & 0o777 == 0o600
    assert kf.check(admin).scope == "admin" and kf.check(reader).scope == "search"
    assert kf.check(reader).may("search") and not kf.check(reader).may("admin")
    with pytest.raises(InputError):
        kf.add("ops", "search")  # names are unique
    with pytest.raises(InputError):
        kf.add("x", "root")


def test_wrong_expired_revoked_keys_refused(tmp_path: Path) -> None:
    kf = KeyFile(tmp_path / "keys.json", legacy_admin_key="legacy-secret")
    good = kf.add("a", "admin")
    old = kf.add("old", "search", "2020-01-01")
    for bad in (good[:-1] + ("x" if good[-1] != "x" else "y"), "kb_00000000_" + "q" * 32, "nonsense", old):
        with pytest.raises(AuthError) as err:
            kf.check(bad)
        assert err.value.status == 403
    assert kf.check("legacy-secret").name == "KB_API_KEY"
    other = KeyFile(tmp_path / "keys.json")  # another process: sees the revocation on its next check
    assert other.check(good).name == "a"
    kf.revoke("a")
    with pytest.raises(AuthError):
        other.check(good)


def test_a_failed_check_costs_the_same_whatever_the_key(tmp_path: Path) -> None:
    kf = KeyFile(tmp_path / "keys.json")
    good = kf.add("a", "admin")

    def cost(key: str) -> float:
        t0 = time.perf_counter()
        with pytest.raises(AuthError):
            kf.check(key)
        return time.perf_counter() - t0

    known_id, unknown_id, garbage = good[:-2] + "zz", "kb_ffffffff_" + "z" * 32, "z"
    times = [min(cost(k) for _ in range(3)) for k in (known_id, unknown_id, garbage)]
    assert max(times) < 2.5 * min(times)  # one scrypt each (about 50 ms), not a shortcut for unknown ids


def test_audit_lines_and_a_torn_last_line(tmp_path: Path) -> None:
    audit.record(tmp_path, "upload", key="ops", client="10.0.0.1", doc_id="d", content_hash="ab" * 32)
    audit.record(tmp_path, "delete", key="ops", doc_id="d", outcome="deleted")
    with open(tmp_path / audit.FILE, "ab") as f:
        f.write(b'{"time": "2026-01-01T00:00:00", "action": "upl')  # a line cut by a kill
    entries = list(audit.read(tmp_path))
    assert [e["action"] for e in entries] == ["upload", "delete"] and entries[0]["client"] == "10.0.0.1"
    assert list(audit.read(tmp_path, since="2999")) == []
    assert json.loads((tmp_path / audit.FILE).read_text().splitlines()[0])["key"] == "ops"
