"""The erasure journal and the keystore shared by many processes: nothing appended is lost, every process sees
the others' erasures and rotations, a crash mid-write is harmless, damage is refused (and restore does not run)."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from policykeeper import KeyStoreError, SubjectNotFoundError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.store import backup_database, open_database, restore_database, subjects

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
ONLINE = Facts(channel="online")
_CTX = multiprocessing.get_context("fork")


def _append_many(path: str, prefix: str, n: int) -> None:
    ring = KeyRing.open(Path(path))
    for i in range(n):
        ring.record_shredded(f"{prefix}{i}")


def _rotate(path: str) -> None:
    KeyRing.open(Path(path)).add_new_key()


def test_concurrent_writers_in_several_processes_lose_no_entry(tmp_path: Path) -> None:
    KeyRing.init(tmp_path)
    procs = [_CTX.Process(target=_append_many, args=(str(tmp_path), f"p{n}-", 40)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert KeyRing.open(tmp_path).read_journal() == {f"p{n}-{i}" for n in range(4) for i in range(40)}


def test_a_long_running_keyring_sees_what_another_process_journalled(tmp_path: Path) -> None:
    serve = KeyRing.init(tmp_path)
    assert not serve.is_shredded("s1")
    code = f"from pathlib import Path; from policykeeper.crypto import KeyRing; KeyRing.open(Path({str(tmp_path)!r}))" \
           ".record_shredded('s1')"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert serve.is_shredded("s1")
    serve.record_shredded("s2")  # and appending does not drop the other process's entry
    assert KeyRing.open(tmp_path).read_journal() == {"s1", "s2"}


def _person(n: str) -> dict[str, str]:
    return {"name": f"Person {n}", "password": "pw", "uuid": f"u-{n}", "phone": f"+856 20 {n}",
            "email": f"{n}@example.com", "date_of_birth": "1990-01-01"}


def test_restore_after_erasures_by_the_cli_while_serve_ran_brings_nobody_back(db_url: str, tmp_path: Path) -> None:
    live_url = f"sqlite:///{tmp_path / 'live.db'}"
    serve = PolicyEngine(load_pack("kokkok"), open_database(live_url), KeyRing.init(tmp_path / "keys"))
    people = [f"p{i}" for i in range(6)]
    for p in people:
        serve.collect(p, "personal_customer", _person(p), ONLINE, now=NOW)
    backup_database(serve.db, tmp_path / "before.pkbak")
    cli = PolicyEngine(load_pack("kokkok"), open_database(live_url), KeyRing.open(tmp_path / "keys"))
    for p in people[:5]:
        cli.erase(p, now=NOW)  # `policykeeper request fulfil` in its own process, with its own keyring
    serve.erase(people[5], now=NOW)  # then one through the API of the server that was running all along
    target = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.open(tmp_path / "keys"))
    restore_database(target.db, tmp_path / "before.pkbak", target.keys)
    for p in people:
        with pytest.raises(SubjectNotFoundError):
            target.read(p, "p1_contract_performance", {"email"}, now=NOW)
    with target.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(subjects).where(subjects.c.status == "erased")) \
                   .scalar_one() == 6


def test_a_write_cut_short_by_a_crash_is_skipped_then_cut_off(tmp_path: Path) -> None:
    ring = KeyRing.init(tmp_path)
    ring.record_shredded("s1")
    journal = tmp_path / "erasures.journal"
    with journal.open("ab") as fh:
        fh.write(b"s2 1234")  # the process died mid-line: never acknowledged
    reader = KeyRing.open(tmp_path)
    assert reader.is_shredded("s1") and not reader.is_shredded("s2")
    assert reader.read_journal() == {"s1"}
    ring.record_shredded("s3")
    assert journal.read_bytes().endswith(b"\ns3 " + b"%08x" % __import__("zlib").crc32(b"s3") + b"\n")
    assert b"1234" not in journal.read_bytes()
    assert KeyRing.open(tmp_path).read_journal() == {"s1", "s3"} and reader.is_shredded("s3")


def test_restore_refuses_a_damaged_or_missing_journal_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    keys = KeyRing.init(tmp_path / "keys")
    live = PolicyEngine(load_pack("kokkok"), open_database(f"sqlite:///{tmp_path / 'live.db'}"), keys)
    live.collect("alice", "personal_customer", _person("alice"), ONLINE, now=NOW)
    live.collect("bob", "personal_customer", _person("bob"), ONLINE, now=NOW)
    backup_database(live.db, tmp_path / "before.pkbak")
    live.erase("alice", now=NOW)
    keys.record_shredded("someone-else")
    journal = tmp_path / "keys" / "erasures.journal"
    good = journal.read_bytes()
    journal.write_bytes(good.replace(b"someone-else", b"someone-elsf"))  # one flipped bit on disk
    target = open_database(db_url)
    with pytest.raises(KeyStoreError, match="damaged at line 3"):
        restore_database(target, tmp_path / "before.pkbak", KeyRing.open(tmp_path / "keys"))
    with target.connect() as conn:
        assert conn.execute(select(func.count()).select_from(subjects)).scalar_one() == 0
    journal.unlink()
    with pytest.raises(KeyStoreError, match="erasure journal .* is missing"):
        KeyRing.open(tmp_path / "keys")
    with pytest.raises(KeyStoreError, match="missing"):
        restore_database(target, tmp_path / "before.pkbak", keys)
    with target.connect() as conn:
        assert conn.execute(select(func.count()).select_from(subjects)).scalar_one() == 0


def test_an_older_keystore_moves_its_shredded_list_into_the_journal(tmp_path: Path) -> None:
    ring = KeyRing.init(tmp_path)
    data = json.loads((tmp_path / "keys.json").read_text())
    (tmp_path / "erasures.journal").unlink()
    data.update(format=1, shredded=["old1", "old2"])
    del data["journal"]
    (tmp_path / "keys.json").write_text(json.dumps(data))
    opened = KeyRing.open(tmp_path)
    assert opened.read_journal() == {"old1", "old2"} and opened.current == ring.current
    assert "shredded" not in json.loads((tmp_path / "keys.json").read_text())
    assert KeyRing.open(tmp_path).is_shredded("old2")


def test_rotations_in_other_processes_are_seen_and_never_undone(tmp_path: Path) -> None:
    serve = KeyRing.init(tmp_path)
    first = serve.current
    procs = [_CTX.Process(target=_rotate, args=(str(tmp_path),)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(KeyRing.open(tmp_path).key_ids) == 5  # no rotation overwrote another's key
    assert serve.current != first and serve.current.id == KeyRing.open(tmp_path).key_ids[0]
    serve.add_new_key()
    assert len(KeyRing.open(tmp_path).key_ids) == 6


def test_bad_entries_are_refused(tmp_path: Path) -> None:
    ring = KeyRing.init(tmp_path)
    for bad in ("", "a b", "x\ny", "z" * 201):
        with pytest.raises(KeyStoreError, match="printable"):
            ring.record_shredded(bad)
    assert ring.read_journal() == frozenset()


def _rotate_database(path: str, url: str) -> None:
    from policykeeper.crypto import rotate_master_key

    rotate_master_key(KeyRing.open(Path(path)), open_database(url))


def test_concurrent_rotations_leave_every_data_key_readable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pk.db'}"
    serve = PolicyEngine(load_pack("kokkok"), open_database(url), KeyRing.init(tmp_path / "keys"))
    for p in ("alice", "bob", "carol"):
        serve.collect(p, "personal_customer", _person(p), ONLINE, now=NOW)
    procs = [_CTX.Process(target=_rotate_database, args=(str(tmp_path / "keys"), url)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert len(KeyRing.open(tmp_path / "keys").key_ids) == 1
    for p in ("alice", "bob", "carol"):  # the long-running engine took up the new key by itself
        assert serve.read(p, "p1_contract_performance", {"email"}, now=NOW) == {"email": [f"{p}@example.com"]}
    serve.collect("dan", "personal_customer", _person("dan"), ONLINE, now=NOW)
    fresh = PolicyEngine(load_pack("kokkok"), open_database(url), KeyRing.open(tmp_path / "keys"))
    assert fresh.read("dan", "p1_contract_performance", {"email"}, now=NOW) == {"email": ["dan@example.com"]}


@pytest.mark.parametrize("left", [b"", b"policykeeper era"])
def test_a_journal_whose_creation_was_cut_short_still_takes_entries(tmp_path: Path, left: bytes) -> None:
    KeyRing.init(tmp_path)
    (tmp_path / "erasures.journal").write_bytes(left)
    ring = KeyRing.open(tmp_path)
    assert ring.read_journal() == frozenset()
    ring.record_shredded("s1")
    assert KeyRing.open(tmp_path).read_journal() == {"s1"}
