"""The console's two pictures, drawn on the server as SVG with a table beside each: consents over time and the
data map.

* Consents: given and withdrawn per day (per week or month over longer periods) on a true time axis (days without
  events keep their place), filtered by consent and period, downloadable as CSV. Withdrawals are hatched and given
  consents solid, so the two differ by more than colour.
* Data map: categories, purposes, recipients and where recipients process, each column grouped (categories by the
  Fides taxonomy, purposes by legal basis, recipients inside or outside the company), ordered to keep lines short,
  labels wrapped to fit their box; filtered to one category or one recipient and what it touches.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from ..pack import Pack
from ..store import ledger as ledger_store
from ._context import WebContext
from ._pages import ctx_of
from .admin import Seat, _page, require_staff, router

__all__ = ["PERIODS", "consent_chart", "consent_series", "data_map", "label_lines", "text_width"]

# -- consents over time ------------------------------------------------------------------------------------------------

PERIODS: dict[str, int | None] = {"30": 30, "90": 90, "365": 365, "all": None}
"""The periods the consents page offers: the last so many days, or everything on record."""


def _bucket(day: dt.date, size: str) -> dt.date:
    if size == "week":
        return day - dt.timedelta(days=day.weekday())
    if size == "month":
        return day.replace(day=1)
    return day


def _next(day: dt.date, size: str) -> dt.date:
    if size == "week":
        return day + dt.timedelta(days=7)
    if size == "month":
        return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return day + dt.timedelta(days=1)


def consent_series(per_day: dict[dt.date, list[int]], start: dt.date, end: dt.date) -> tuple[str, list[
        tuple[dt.date, int, int, int]]]:
    """Every period from ``start`` to ``end`` (a day up to a month, a week from Monday up to a year, else a month)
    with its counts
    (given, withdrawn, other), empty periods included: the axis is time, not the days that had events."""
    span = (end - start).days + 1
    size = "day" if span <= 31 else ("week" if span <= 366 else "month")
    sums: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for day, counts in per_day.items():
        if start <= day <= end:
            slot = sums[_bucket(day, size)]
            for i in range(3):
                slot[i] += counts[i]
    out = []
    at = _bucket(start, size)
    while at <= end:
        g, w, o = sums.get(at, [0, 0, 0])
        out.append((at, g, w, o))
        at = _next(at, size)
    return size, out


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str
    day: str
    count: int


def _nice(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000):
        if peak / step <= 5:
            return step
    return max(1, peak // 5)


def consent_chart(size: str, series: list[tuple[dt.date, int, int, int]], *, width: int = 720,
                  height: int = 280) -> dict[str, Any]:
    """Geometry of the consents chart: x is time (each period's width is its length), y the count; a solid bar of
    consents given and a hatched one of consents withdrawn per period, ticks on dates that do not crowd."""
    left, right, bottom, top = 48, 12, 48, 16
    plot_w, plot_h = width - left - right, height - bottom - top
    first = series[0][0]
    last = _next(series[-1][0], size)
    days = max((last - first).days, 1)

    def x_of(day: dt.date) -> float:
        return round(left + plot_w * (day - first).days / days, 1)

    peak = max([max(g, w) for _, g, w, _ in series] + [1])
    step = _nice(peak)
    top_value = -(-peak // step) * step
    bars: list[Bar] = []
    for at, given, withdrawn, _other in series:
        x0, x1 = x_of(at), x_of(_next(at, size))
        slot = x1 - x0
        bar_w = max(min(slot * 0.4, 22), 1.0)
        gap = (slot - 2 * bar_w) / 2
        for j, (kind, n) in enumerate((("given", given), ("withdrawn", withdrawn))):
            h = plot_h * n / top_value
            bars.append(Bar(round(x0 + gap + j * bar_w, 1), round(top + plot_h - h, 1), round(bar_w, 1), round(h, 1),
                            kind, at.isoformat(), n))
    # date ticks: a label is about 64 units wide; keep at least 80 between two
    candidates: list[dt.date] = []
    if size == "month" or days > 200:
        at = first.replace(day=1)
        while at <= last:
            if at >= first:
                candidates.append(at)
            at = _next(at, "month")
    else:  # each period's start: days, or Mondays
        candidates = [at for at, *_counts in series]
    every = 1
    while len(candidates) > 1 and plot_w / max(len(candidates[::every]) - 1, 1) < 80:
        every += 1
    ticks_x = [(x_of(d), d.isoformat() if d.day != 1 or days <= 200 else d.isoformat()[:7])
               for d in candidates[::every] if x_of(d) <= left + plot_w - 20]
    return {"width": width, "height": height, "left": left, "top": top, "plot_w": plot_w, "plot_h": plot_h,
            "bars": bars, "labels": ticks_x, "axis_y": top + plot_h,
            "ticks": [(t, round(top + plot_h - plot_h * t / top_value, 1)) for t in range(0, top_value + 1, step)]}


def _consent_targets(pack: Pack) -> dict[str, str]:
    """Every target consent events name in this pack: the id to the name people read (the id where none)."""
    names = {p.id: p.name for p in pack.purposes.items}
    names.update({r.id: r.name for r in pack.recipients})
    for rule in pack.consents:
        names.setdefault(rule.id, rule.id.replace("_", " "))
    return names


def _per_day(ctx: WebContext, target: str | None, since: dt.date | None) -> dict[dt.date, list[int]]:
    pack = ctx.engine().pack
    start = None if since is None else dt.datetime(since.year, since.month, since.day, tzinfo=dt.UTC)
    with ctx.db.connect() as conn:
        rows = ledger_store.consent_counts_by_day(conn, pack.id, target=target, since=start)
    found: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        found[r.day][{"given": 0, "withdrawn": 1}.get(r.action, 2)] += r.count
    return found


def _consent_view(request: Request) -> dict[str, Any]:
    ctx = ctx_of(request)
    pack = ctx.engine().pack
    targets = _consent_targets(pack)
    with ctx.db.connect() as conn:
        seen = ledger_store.consent_targets_seen(conn, pack.id)
    choices = {t: n for t, n in targets.items() if t in seen}
    choices.update({t: t for t in sorted(seen - targets.keys())})
    target = request.query_params.get("consent") or ""
    target = target if target in choices else ""
    period = request.query_params.get("period") or "90"
    period = period if period in PERIODS else "90"
    today = ctx.clock.now().date()
    days = PERIODS[period]
    since = today - dt.timedelta(days=days - 1) if days is not None else None
    per_day = _per_day(ctx, target or None, since)
    start = since or (min(per_day) if per_day else today)
    size, series = consent_series(per_day, start, today)
    totals = (sum(s[1] for s in series), sum(s[2] for s in series), sum(s[3] for s in series))
    return {"choices": choices, "target": target, "period": period, "size": size, "series": series,
            "totals": totals, "start": start, "end": today}


@router.get("/consents", response_class=HTMLResponse)
def consents_page(request: Request, seat: Annotated[Seat, Depends(require_staff("consents:read"))]) -> Response:
    view = _consent_view(request)
    chart = consent_chart(view["size"], view["series"])
    query = "&".join(f"{k}={v}" for k, v in (("consent", view["target"]), ("period", view["period"])) if v)
    return _page(request, "admin/consents.html", seat, chart=chart, csv_url=f"/admin/consents.csv?{query}",
                 periods=list(PERIODS), **view)


@router.get("/consents.csv", dependencies=[Depends(require_staff("consents:read"))])
def consents_csv(request: Request) -> Response:
    """The consents chart's figures as CSV, with the page's filters."""
    view = _consent_view(request)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f"{view['size']}_starting", "given", "withdrawn", "other", "consent"])
    for at, g, w, o in view["series"]:
        writer.writerow([at.isoformat(), g, w, o, view["target"] or "all"])
    name = f"consents-{view['target'] or 'all'}-{view['start']}-{view['end']}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# -- the data map -----------------------------------------------------------------------------------------------------

def text_width(text: str, size: float) -> float:
    """A generous estimate of how wide ``text`` is drawn at ``size`` px in a sans-serif face: wide (CJK) characters
    one em, capitals and digits 0.68 em, other characters 0.56 em."""
    total = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            total += 1.0
        elif ch.isupper() or ch.isdigit() or ch in "mwMW@%":
            total += 0.72
        elif ch in "il.,;:'|! ":
            total += 0.34
        else:
            total += 0.58
    return total * size


def label_lines(text: str, width: float, size: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (by words; a word too long alone is split)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}" if line else word
        if text_width(trial, size) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        line = ""
        for ch in word:
            if text_width(line + ch, size) > width and line:
                lines.append(line)
                line = ""
            line += ch
    if line:
        lines.append(line)
    return lines or [""]


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    lines: tuple[str, ...]
    column: int
    x: float
    y: float
    height: float
    any_category: bool = False


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    path: str
    kind: str


@dataclass(frozen=True)
class Group:
    column: int
    key: str
    x: float
    y: float


UNSTATED = "not stated"
FONT = 12
LINE_H = 15


def _place(value: object) -> str:
    return UNSTATED if value in (None, "unspecified") else str(value)


def _taxonomy_group(fides_key: str) -> str:
    parts = fides_key.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def data_map(pack: Pack, *, category: str | None = None, recipient: str | None = None, col_width: int = 260,
             box_w: int = 200) -> dict[str, Any]:
    """Geometry of the data map: columns categories -> purposes -> recipients -> places, each grouped, and the links
    between them (a purpose to the categories it may use, a recipient to the purposes it receives data for, a
    recipient to where it processes data). With ``category`` or ``recipient``, only what that one touches."""
    cats = list(pack.data_categories)
    purps = list(pack.purposes.items)
    recs = list(pack.recipients)
    all_cats = [c.id for c in cats]

    def uses(p: Any) -> list[str]:
        return all_cats if p.categories == "any_declared" else list(p.categories)

    if category is not None:
        cats = [c for c in cats if c.id == category]
        purps = [p for p in purps if category in uses(p)]
        pids = {p.id for p in purps}
        recs = [r for r in recs if pids & set(r.purposes)
                and (isinstance(r.categories, str) or category in r.categories)]
    elif recipient is not None:
        recs = [r for r in recs if r.id == recipient]
        pids = {p for r in recs for p in r.purposes}
        purps = [p for p in purps if p.id in pids]
        wanted = ({c for r in recs if not isinstance(r.categories, str) for c in r.categories}
                  or {c for p in purps if p.categories != "any_declared" for c in p.categories})
        cats = [c for c in cats if c.id in wanted]
    places = sorted({_place(r.place_of_processing) for r in recs}, key=lambda p: (p == UNSTATED, p))
    inner = box_w - 12
    pairs: list[tuple[str, str, str]] = []
    cat_ids = {c.id for c in cats}
    for p in purps:
        if p.categories != "any_declared" or category is not None:
            pairs += [(f"cat:{c}", f"pur:{p.id}", "uses") for c in uses(p) if c in cat_ids]
    for r in recs:
        pairs += [(f"pur:{p}", f"rec:{r.id}", "receives") for p in r.purposes if any(q.id == p for q in purps)]
        pairs.append((f"rec:{r.id}", f"reg:{_place(r.place_of_processing)}", "processes"))

    # each column: (group key, node id, label, any-category) in drawing order
    cat_items = [(_taxonomy_group(c.fides_key), f"cat:{c.id}", c.name, False) for c in cats]
    cat_groups = list(dict.fromkeys(g for g, *_rest in cat_items))  # in the pack's order
    columns: list[list[tuple[str, str, str, bool]]] = [
        [item for g in cat_groups for item in cat_items if item[0] == g],
        [(p.legal_basis, f"pur:{p.id}", p.name, p.categories == "any_declared" and category is None) for p in purps],
        [("inside" if not r.third_party else "outside", f"rec:{r.id}", r.name, False) for r in recs],
        [("places", f"reg:{p}", p, False) for p in places],
    ]
    nodes: dict[str, Node] = {}
    groups: list[Group] = []
    height = 0.0
    sources: dict[str, list[str]] = defaultdict(list)
    for a, b, _kind in pairs:
        sources[b].append(a)
    for col, items in enumerate(columns):
        if col in (1, 2):  # order by where the lines come from: fewer crossings
            def centre(item: tuple[str, str, str, bool]) -> float:
                ys = [nodes[s].y + nodes[s].height / 2 for s in sources.get(item[1], []) if s in nodes]
                return sum(ys) / len(ys) if ys else 1e9
            by_group: dict[str, list[tuple[str, str, str, bool]]] = defaultdict(list)
            for item in items:
                by_group[item[0]].append(item)
            ordered = [sorted(members, key=centre) for members in by_group.values()]
            ordered.sort(key=lambda members: sum(centre(m) for m in members) / len(members))
            items = [m for members in ordered for m in members]
        y = 34.0
        current = None
        for key, nid, label, any_cat in items:
            if key != current and col < 3:
                groups.append(Group(col, key, 10 + col * col_width, y + 12))
                y += 20
                current = key
            lines = tuple(label_lines(label, inner, FONT))
            h = 8 + LINE_H * (len(lines) + (1 if any_cat else 0))
            nodes[nid] = Node(nid, label, lines, col, 10 + col * col_width, round(y, 1), h, any_cat)
            y += h + 6
        height = max(height, y)
    links = []
    for a, b, kind in pairs:
        if a in nodes and b in nodes:
            s, t = nodes[a], nodes[b]
            x1, y1 = s.x + box_w, s.y + s.height / 2
            x2, y2 = t.x, t.y + t.height / 2
            mid = (x1 + x2) / 2
            links.append(Link(a, b, f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}",
                              kind))
    storage = pack.storage
    home = () if isinstance(storage, str) or isinstance(storage.home_regions, str) else tuple(storage.home_regions)
    return {"width": 10 + 3 * col_width + box_w + 10, "height": round(height + 10), "box_w": box_w,
            "nodes": list(nodes.values()), "links": links, "home": home, "groups": groups,
            "columns": [10 + i * col_width for i in range(4)], "line_h": LINE_H, "font": FONT,
            "categories": cats, "purposes": purps, "recipients": recs}


@router.get("/datamap", response_class=HTMLResponse)
def datamap_page(request: Request, seat: Annotated[Seat, Depends(require_staff("data:map"))]) -> Response:
    pack = ctx_of(request).engine().pack
    names = {c.id: c.name for c in pack.data_categories}
    category = request.query_params.get("category") or None
    recipient = request.query_params.get("recipient") or None
    category = category if category in names else None
    recipient = recipient if recipient in {r.id for r in pack.recipients} and category is None else None
    m = data_map(pack, category=category, recipient=recipient)
    return _page(request, "admin/datamap.html", seat, m=m, names=names, all_categories=pack.data_categories,
                 all_recipients=pack.recipients, category=category, recipient=recipient,
                 purpose_names={p.id: p.name for p in pack.purposes.items}, unstated=UNSTATED, place=_place)
