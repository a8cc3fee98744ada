"""The process id read without a system call (``authcore.process``) stays right across forks,
and what depends on it follows: a forked process (a gunicorn ``--preload`` worker, a Celery
prefork child) counts its metrics in files of its own, never in its parent's."""

from __future__ import annotations

import os

from prometheus_client.parser import text_string_to_metric_families

from authcore.metrics import KEY_ROTATIONS, SIGNING_KEYS, render
from authcore.process import current_pid
from tests.authcore.forks_and_sockets import in_a_forked_child


def rotations_counted() -> float:
    """``authcore_key_rotations_total`` as ``/metrics`` shows it: summed over processes."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(render().decode())
        for sample in family.samples
        if sample.name == "authcore_key_rotations_total"
    )


def test_a_forked_child_reads_its_own_pid_and_the_parent_keeps_its_own() -> None:
    parent = current_pid()
    assert parent == os.getpid()

    child, reported = in_a_forked_child(lambda: str(current_pid()))

    assert int(reported) == child != parent
    assert current_pid() == parent


def test_counts_made_in_a_forked_child_add_up_with_the_parents() -> None:
    """Had the child kept its parent's id, it would have written into the parent's file
    (mapped shared) from its copy of the parent's values, and one count would be lost."""
    before = rotations_counted()
    KEY_ROTATIONS.inc()

    def count_once() -> str:
        KEY_ROTATIONS.inc()
        return "counted"

    assert in_a_forked_child(count_once)[1] == "counted"
    KEY_ROTATIONS.inc()

    assert rotations_counted() - before == 3


def signing_keys_gauge(state: str) -> float:
    return next(
        sample.value
        for family in text_string_to_metric_families(render().decode())
        for sample in family.samples
        if sample.name == "authcore_signing_keys" and sample.labels["state"] == state
    )


def test_a_gone_workers_signing_key_gauge_stops_counting() -> None:
    """A worker that saw a next key and was then recycled must not keep the gauge up: the
    alert on authcore_signing_keys{state="next"} == 0 (nothing rotates) depends on it."""

    def saw_a_next_key() -> str:
        SIGNING_KEYS.labels(state="next").set(1)
        return "set"

    assert in_a_forked_child(saw_a_next_key)[1] == "set"  # the child has exited
    SIGNING_KEYS.labels(state="next").set(0)

    assert signing_keys_gauge("next") == 0
