"""A record of processing activities in the style of GDPR Article 30(1), one row per purpose of the pack."""

from __future__ import annotations

import csv
import io

from jinja2 import Environment

from ..pack import Pack
from ._pack import purpose_categories, purpose_recipients, purpose_retention, transfer_words

__all__ = ["ROPA_COLUMNS", "ropa_csv", "ropa_html", "ropa_rows"]

ROPA_COLUMNS = ("controller", "controller_contact", "purpose_id", "purpose", "legal_basis", "data_subjects",
                "personal_data", "recipients", "transfers", "retention", "security_measures", "promises")
"""The columns: Art. 30(1)(a) controller and contact, (b) purpose, (c) data subjects and personal data,
(d) recipients, (e) transfers, (f) time limits for erasure, (g) security measures; plus the legal basis and the
promises of the policy behind the row."""

_NOT_STATED = "not stated by the policy"


def ropa_rows(pack: Pack) -> list[dict[str, str]]:
    cats = {c.id: c.name for c in pack.data_categories}
    recips = {r.id: r for r in pack.recipients}
    contact = "; ".join(f"{c.kind}: {c.value}" for c in pack.contacts.channels) or _NOT_STATED
    security = _NOT_STATED if isinstance(pack.security, str) else \
        ", ".join(dict.fromkeys(s.kind.replace("_", " ") for s in pack.security)) or _NOT_STATED
    rows = []
    for p in pack.purposes.items:
        retention = purpose_retention(pack, p)
        rows.append({
            "controller": pack.controller.legal_name,
            "controller_contact": contact,
            "purpose_id": p.id,
            "purpose": p.name,
            "legal_basis": p.legal_basis.replace("_", " ") if p.legal_basis != "unspecified" else _NOT_STATED,
            "data_subjects": "the people whose personal data the pack covers (the policy names no categories)",
            "personal_data": ", ".join(cats.get(c, c) for c in purpose_categories(pack, p)),
            "recipients": "; ".join(f"{recips[r].name} ({recips[r].category.replace('_', ' ')})"
                                    for r in purpose_recipients(pack, p)) or "none",
            "transfers": transfer_words(pack),
            "retention": "; ".join(f"{rule}: {d} {end}" for rule, d, end in retention) or _NOT_STATED,
            "security_measures": security,
            "promises": " ".join(p.promises),
        })
    return rows


def ropa_csv(pack: Pack) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=ROPA_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(ropa_rows(pack))
    return buf.getvalue()


_HTML = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Record of processing activities: {{ name }}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}
th,td{border:1px solid #999;padding:.3em .5em;vertical-align:top;text-align:left}th{background:#eee}</style></head>
<body><h1>Record of processing activities</h1>
<p>{{ name }}, policy version {{ version }}. Controller: {{ controller }}. One row per purpose (GDPR Article 30(1) style),
generated from the policy pack.</p>
<table><caption>Processing activities</caption><thead><tr>
{% for c in columns %}<th scope="col">{{ c.replace('_', ' ') }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in rows %}<tr>{% for c in columns %}<td>{{ r[c] }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></body></html>
""")


def ropa_html(pack: Pack) -> str:
    return _HTML.render(name=pack.name, version=pack.version.label, controller=pack.controller.legal_name,
                        columns=ROPA_COLUMNS, rows=ropa_rows(pack))
