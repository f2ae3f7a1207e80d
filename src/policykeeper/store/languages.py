"""The language a person uses with us, kept encrypted: with each request (the mails about it are written in it) and
with the person (notices that go to many people at once, such as a breach notice or a policy change, are written in
the language they last used). A language is personal data like any other: it is encrypted under the request's key
or the person's data key, so erasing them makes it unreadable too."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from ..crypto import KeyRing, decrypt, encrypt, unwrap_data_key
from ._schema import subjects

__all__ = ["of_subject", "remember_for_subject", "sealed", "unsealed"]


def sealed(key: bytes, ref: str, language: str) -> bytes:
    """A request's language, encrypted under the request's own key (``req:REF``)."""
    return encrypt(key, language.encode(), f"req:{ref}|language")


def unsealed(key: bytes, ref: str, value: bytes) -> str:
    return decrypt(key, value, f"req:{ref}|language").decode()


def _subject_key(conn: Connection, keys: KeyRing, subject_id: str) -> tuple[bytes, bytes | None] | None:
    row = conn.execute(select(subjects.c.kek_id, subjects.c.wrapped_key, subjects.c.language)
                       .where(subjects.c.id == subject_id)).first()
    if row is None or row.wrapped_key is None or keys.is_shredded(subject_id):
        return None
    return unwrap_data_key(keys.get(row.kek_id), row.wrapped_key, subject_id), row.language


def remember_for_subject(conn: Connection, keys: KeyRing, subject_id: str, language: str) -> None:
    """Keep ``language`` as the one the person last used (nothing is kept for an erased person)."""
    found = _subject_key(conn, keys, subject_id)
    if found is not None:
        conn.execute(update(subjects).where(subjects.c.id == subject_id).values(
            language=encrypt(found[0], language.encode(), f"{subject_id}|language")))


def of_subject(conn: Connection, keys: KeyRing, subject_id: str) -> str | None:
    """The language the person last used with us, or None when it is not known (or they were erased)."""
    found = _subject_key(conn, keys, subject_id)
    if found is None or found[1] is None:
        return None
    return decrypt(found[0], found[1], f"{subject_id}|language").decode()
