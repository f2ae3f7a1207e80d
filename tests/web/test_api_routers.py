"""The REST API is one router per resource, assembled in one place: every resource's operations are served under
/v1 exactly once, with unique operation ids, and no resource module grows past ~600 lines."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute

from policykeeper.web import api


def test_every_resources_operations_are_served_once_under_v1() -> None:
    app = FastAPI()
    app.include_router(api.router)
    paths = app.openapi()["paths"]
    served = sorted((method.upper(), path) for path, ops in paths.items() for method in ops)
    own = sorted((method, "/v1" + r.path) for m in api.RESOURCES for r in m.router.routes if isinstance(r, APIRoute)
                 for method in r.methods)
    assert served == own and len(set(own)) == len(own)
    modules = {p.stem for p in Path(api.__file__).parent.glob("_*.py")} - {"__init__", "_common"}
    assert modules == {m.__name__.rsplit(".", 1)[1] for m in api.RESOURCES}  # no resource left out
    ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    assert len(ids) == len(set(ids)) == len(served) == 52


def test_no_api_module_is_over_600_lines() -> None:
    for path in Path(api.__file__).parent.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 600, path.name
