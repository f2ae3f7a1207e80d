"""Run ``policykeeper request fulfil`` (the real command) for each reference given, in one process, so a test can
kill it with SIGKILL at a random point of the erasures: ``python erase_worker.py HOME DB_URL DATASET SHOP_URL REF...``
(the company database named by the dataset map DATASET at SHOP_URL is erased too, as ``--dataset``/``--dataset-url``
do). With ``--library`` first, the request service is opened once and its ``fulfil_erasure`` called for each
reference (the library path, where almost all the time goes to the erasures themselves, so more kills land inside
them).

Prints ``ready`` once everything is opened, then one line per fulfilled request."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    from policykeeper.cli import _requests, app

    library = argv[0] == "--library"
    home, url, dataset, shop_url, *refs = argv[1:] if library else argv
    if library:
        from pathlib import Path

        from policykeeper.connectors import load_dataset_map, open_target

        svc = _requests(Path(home), url, "kokkok")
        svc.databases = ((load_dataset_map(Path(dataset)), open_target(shop_url)),)
        print("ready", flush=True)
        for ref in refs:
            svc.fulfil_erasure(ref, actor="operator")
            print(f"request {ref}: fulfilled; erased", flush=True)
        return
    print("ready", flush=True)
    for ref in refs:
        app(["request", "fulfil", ref, "--home", home, "--database-url", url, "--pack", "kokkok",
             "--dataset", dataset, "--dataset-url", shop_url], standalone_mode=False)
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
