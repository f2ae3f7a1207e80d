"""``policykeeper bench draft``: leave-one-pack-out evaluation of the policy compiler on the five bundled policies.

Each bundled policy is drafted with a tag model trained only on the other four packs, then compared with its
hand-written pack: scalar values (precision, invented values, coverage) and promises (recall and precision by
quote overlap within a tag family). The seed texts are read from ``$POLICYKEEPER_SEEDS`` or ``bench/seeds``.
docs/compiler.md explains each figure.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError
from ..compiler import draft_pack, read_policy
from ..compiler._lexicon import TAG_FAMILY
from ..compiler._review import locate
from ..pack import Pack, lint_pack, load_pack

__all__ = ["GOALS", "run_draft", "scalar_fields"]

PACKS = ("koso", "kalos", "konzen", "kokkok", "kamoer")
GOALS = {"scalar_precision_min": 0.90, "invented_max": 0, "promise_recall_min": 0.85, "promise_precision_min": 0.70,
         "seconds_per_policy_max": 5.0}


def _seeds() -> Path:
    env = os.environ.get("POLICYKEEPER_SEEDS")
    candidates = [Path(env)] if env else [Path("bench/seeds"), Path(__file__).resolve().parents[3] / "bench" / "seeds"]
    for c in candidates:
        if all((c / f"{n}.txt").is_file() for n in PACKS):
            return c
    raise ConfigError(f"the five seed policies (koso.txt ... kamoer.txt) are not in {', '.join(map(str, candidates))}; "
                      "set POLICYKEEPER_SEEDS to their directory")


def _u(value: Any) -> bool:
    return value is None or value == "unspecified"


def _dur(value: Any) -> str | None:
    if _u(value):
        return None
    if isinstance(value, str):
        return value
    return f"{value.value} {value.unit}"


def scalar_fields(pack: Pack) -> dict[str, Any]:
    """The values compared by the bench: path -> value (None when the pack says unspecified or has none).

    A set-valued field is split into one entry per element (``rights.type=access: True``), so each element the
    draft emits is judged on its own.
    """
    f: dict[str, Any] = {}
    v = pack.version
    f["version.updated_date"] = None if _u(v.updated_date) else str(v.updated_date)
    f["version.effective_date"] = None if _u(v.effective_date) else str(v.effective_date)
    f["controller.jurisdiction"] = None if _u(pack.controller.jurisdiction) else pack.controller.jurisdiction
    f["acceptance.model"] = pack.acceptance.model
    f["acceptance.decline_effect"] = None if _u(pack.acceptance.decline_effect) else pack.acceptance.decline_effect
    f["contacts.status"] = pack.contacts.status
    for ch in pack.contacts.channels:
        if ch.kind == "email":
            f[f"contacts.email={ch.value.lower()}"] = True
    f["prevailing_language"] = None if _u(pack.prevailing_language) else "stated"
    f["purposes.closed"] = pack.purposes.closed
    for pu in pack.purposes.items:
        if not _u(pu.legal_basis):
            f[f"purposes.legal_basis={pu.data_use}={pu.legal_basis}"] = True
    for co in pack.consents:
        f.setdefault(f"consents.type={co.scope}", co.type)
    share = next((d for d in pack.disclosures if d.kind == "share"), None)
    f["disclosures.share.default"] = share.default if share else None
    public = next((d for d in pack.disclosures if d.kind == "public_disclosure"), None)
    f["disclosures.public.default"] = public.default if public else None
    ct = pack.corporate_transactions
    f["corporate_transactions.successor_bound_by"] = None if _u(ct) or isinstance(ct, str) else ct.successor_bound_by
    s = pack.storage
    if not isinstance(s, str) and not isinstance(s.home_regions, str):
        for r in s.home_regions:
            f[f"storage.home_region={r}"] = True
    t = pack.transfers
    f["transfers.cross_border"] = None if isinstance(t, str) or _u(t.cross_border) else t.cross_border
    if isinstance(pack.retention, tuple):
        for rr in pack.retention:
            d = _dur(rr.duration)
            if d:
                f[f"retention.duration={d}"] = True
    if isinstance(pack.rights, tuple):
        for right in pack.rights:
            f[f"rights.type={right.type}"] = True
    rq = pack.requests
    if not isinstance(rq, str):
        f["requests.verification.required"] = (None if isinstance(rq.verification, str) or _u(rq.verification.required)
                                               else rq.verification.required)
        if isinstance(rq.deadlines, tuple):
            for dl in rq.deadlines:
                f.setdefault(f"requests.deadline.{dl.applies_to}", _dur(dl.duration))
        f["requests.fees.default_fee"] = None if isinstance(rq.fees, str) or _u(rq.fees.default_fee) else rq.fees.default_fee
    m = pack.minors
    if not isinstance(m, str):
        f["minors.threshold"], f["minors.term"], f["minors.enforcement"] = m.threshold, m.term, m.enforcement
    if isinstance(pack.security, tuple):
        for c in pack.security:
            f[f"security.kind={c.kind}"] = True
    b = pack.breach
    f["breach.notify_subjects"] = None if isinstance(b, str) or _u(b.notify_subjects) else b.notify_subjects
    ch_ = pack.changes
    f["changes.date_stamp"] = ch_.date_stamp
    f["changes.advance_notice"] = _dur(ch_.advance_notice) if ch_.advance_notice != "none" else "none"
    f["changes.acceptance"] = None if _u(ch_.acceptance) else ch_.acceptance
    sc = pack.service_cessation
    f["service_cessation.end_action"] = None if isinstance(sc, str) else sc.end_action
    mk = pack.marketing
    if not isinstance(mk, str):
        f["marketing.basis"] = None if _u(mk.basis) else mk.basis
        f["marketing.third_party_ads_in_app"] = None if _u(mk.third_party_ads_in_app) else mk.third_party_ads_in_app
        f["marketing.targeted_ads"] = None if _u(mk.targeted_ads) else mk.targeted_ads
    ck = pack.cookies
    f["cookies.uses_tracking"] = None if isinstance(ck, str) else ck.uses_tracking
    f["automated_decisions"] = None if isinstance(pack.automated_decisions, str) else "stated"
    return f


def _compare(draft: Pack, truth: Pack, forced: set[str]) -> dict[str, Any]:
    d, t = scalar_fields(draft), scalar_fields(truth)
    flagged = {k: v for k, v in d.items() if v is not None and k in forced}
    emitted = {k: v for k, v in d.items() if v is not None and k not in forced}
    correct = [k for k, v in emitted.items() if t.get(k) == v]
    stated_sets = {k.split("=")[0] for k, v in t.items() if "=" in k and v is not None}
    # invented: the pack says unspecified (a scalar it leaves unspecified, or a set-valued field it states nothing of);
    # extra: one more element of a set the pack states (a security measure, a retention period it encodes otherwise)
    missing = [k for k, v in emitted.items() if t.get(k) is None]
    extra = [k for k in missing if "=" in k and k.split("=")[0] in stated_sets]
    invented = [k for k in missing if k not in extra]
    wrong = [k for k, v in emitted.items() if t.get(k) is not None and t.get(k) != v]
    specified = [k for k, v in t.items() if v is not None]
    return {"forced_defaults": len(flagged), "forced_defaults_agreeing": sum(1 for k, v in flagged.items() if t.get(k) == v),
            "emitted": len(emitted), "correct": len(correct), "wrong": sorted(wrong), "invented": sorted(invented),
            "extra": sorted(extra),
            "specified_in_pack": len(specified), "covered": sum(1 for k in specified if d.get(k) == t[k])}


def _promises(text: str, draft: Any, truth: Pack) -> dict[str, Any]:
    spans = []
    for p in truth.promises:
        loc = locate(text, p.quote)
        if loc is not None:
            spans.append((loc[0], loc[1], TAG_FAMILY[p.tag]))
    drafted = [(p.start, p.end, TAG_FAMILY[p.tag]) for p in draft.promises]

    def hit(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
        return a[0] < b[1] and b[0] < a[1] and a[2] == b[2]

    found = sum(1 for s in spans if any(hit(s, g) for g in drafted))
    right = sum(1 for g in drafted if any(hit(s, g) for s in spans))
    return {"catalogued": len(truth.promises), "quotes_located": len(spans), "drafted": len(drafted),
            "recalled": found, "precise": right}


def run_draft(*, quick: bool, database_url: str | None = None) -> dict[str, Any]:
    seeds = _seeds()
    per: dict[str, Any] = {}
    for name in PACKS[2:3] if quick else PACKS:
        started = time.perf_counter()
        draft = draft_pack(read_policy(str(seeds / f"{name}.txt")), pack_id=name, exclude=frozenset({name}))
        seconds = time.perf_counter() - started
        truth = load_pack(name)
        forced = {it.path for it in draft.items if it.note.startswith("NOT STATED")}
        per[name] = {"seconds": round(seconds, 2), "scalars": _compare(draft.pack, truth, forced),
                     "lint": {"draft": [f.code for f in lint_pack(draft.pack)], "pack": [f.code for f in lint_pack(truth)]},
                     "promises": _promises(draft.source.text, draft, truth)}
    tot = {k: sum(p["scalars"][k] for p in per.values())
           for k in ("emitted", "correct", "specified_in_pack", "covered", "forced_defaults")}
    invented = sum(len(p["scalars"]["invented"]) for p in per.values())
    extra = sum(len(p["scalars"]["extra"]) for p in per.values())
    located = sum(p["promises"]["quotes_located"] for p in per.values())
    drafted = sum(p["promises"]["drafted"] for p in per.values())
    recall = sum(p["promises"]["recalled"] for p in per.values()) / max(located, 1)
    precision = sum(p["promises"]["precise"] for p in per.values()) / max(drafted, 1)
    scalar_precision = tot["correct"] / max(tot["emitted"], 1)
    coverage = tot["covered"] / max(tot["specified_in_pack"], 1)
    slowest = max(p["seconds"] for p in per.values())
    out: dict[str, Any] = {
        "method": "leave-one-pack-out: each policy drafted with a tag model trained on the other bundled packs",
        "seeds": str(seeds), "packs": per,
        "scalar_precision": round(scalar_precision, 3), "invented_values": invented, "extra_elements": extra,
        "forced_defaults": tot["forced_defaults"],
        "field_coverage": round(coverage, 3), "promise_recall": round(recall, 3),
        "promise_precision": round(precision, 3), "seconds_per_policy_max": slowest,
        "date": dt.date.today().isoformat(),
    }
    out["goals"] = {
        "scalar_precision": {"goal": f">= {GOALS['scalar_precision_min']}", "value": out["scalar_precision"],
                             "met": scalar_precision >= GOALS["scalar_precision_min"]},
        "invented_values": {"goal": f"<= {GOALS['invented_max']}", "value": invented,
                            "met": invented <= GOALS["invented_max"]},
        "promise_recall": {"goal": f">= {GOALS['promise_recall_min']}", "value": out["promise_recall"],
                           "met": recall >= GOALS["promise_recall_min"]},
        "promise_precision": {"goal": f">= {GOALS['promise_precision_min']}", "value": out["promise_precision"],
                              "met": precision >= GOALS["promise_precision_min"]},
        "seconds_per_policy": {"goal": f"<= {GOALS['seconds_per_policy_max']}", "value": slowest,
                               "met": slowest <= GOALS["seconds_per_policy_max"]},
    }
    return out

