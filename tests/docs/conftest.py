"""Start the docs pages early, collect their results last (see test_docs_commands.py).

The page runs take most of the suite's time but use one core each, waiting on
single-threaded commands; started when collection ends, they run beside the other
tests instead of after them.
"""

from __future__ import annotations

import pytest

PAGE_TEST = "test_shell_blocks_run_top_to_bottom"
DOCS_MODULE = "test_docs_commands.py"


def _is_page_run(item: pytest.Item) -> bool:
    return getattr(item, "originalname", "") == PAGE_TEST and item.path.name == DOCS_MODULE


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the page-run tests to the end: by then their pages have run in the background."""
    items.sort(key=_is_page_run)  # stable: every other test keeps its order


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the selected pages in the background (not for --collect-only)."""
    if session.config.option.collectonly:
        return
    if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: each would run
        return  # every page; the page tests run their own page instead (make test splits)
    item = next((i for i in session.items if _is_page_run(i)), None)
    if item is not None:
        item.module.start_page_runs(session)  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop pages still running when the session ends early (-x, Ctrl-C), and wait."""
    item_module = next((i.module for i in session.items if _is_page_run(i)), None)
    if item_module is None:
        return
    runs = session.config.stash.get(item_module.PAGE_RUNS, None)
    if runs is not None:
        runs.close()
