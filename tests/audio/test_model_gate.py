"""The shared Whisper model's gate: a person's partial on one call is not held up behind
other calls' finals, and a final is never starved by a stream of partials."""

import threading
import time
from collections.abc import Callable

from engine.speech.model_gate import FINAL_SLACK_S, ModelGate


def _until(ok: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 2.0
    while not ok() and time.monotonic() < deadline:
        time.sleep(0.001)
    assert ok()


def _ask(gate: ModelGate, order: list[str], name: str, slack: float, hold_s: float = 0.05):
    """One request from its own thread (as each call's STT worker asks), holding the model
    ``hold_s``; returns once it runs or waits, so the test sets the order of arrival."""

    def run() -> None:
        with gate.turn(slack):
            order.append(name)
            time.sleep(hold_s)

    before = gate.waiting()
    th = threading.Thread(target=run, daemon=True)
    th.start()
    _until(lambda: name in order or gate.waiting() > before)
    return th


def test_a_partial_goes_before_finals_that_asked_first():
    gate, order = ModelGate(), []
    threads = [_ask(gate, order, "running final", FINAL_SLACK_S, hold_s=1.0)]
    threads += [_ask(gate, order, f"final {k}", FINAL_SLACK_S) for k in range(2)]
    threads.append(_ask(gate, order, "partial", 0.0))
    for th in threads:
        th.join(5)
    # the running request is never interrupted; the partial then jumps both finals
    assert order == ["running final", "partial", "final 0", "final 1"]


def test_a_final_waits_no_longer_than_its_slack_behind_later_partials():
    gate, order = ModelGate(), []
    threads = [_ask(gate, order, "running", 0.0, hold_s=0.3)]
    threads.append(_ask(gate, order, "final", 0.1))
    time.sleep(0.15)  # the final's deadline has passed: a partial asking now comes after it
    threads.append(_ask(gate, order, "partial", 0.0))
    for th in threads:
        th.join(5)
    assert order == ["running", "final", "partial"]


def test_two_replicas_run_two_requests_at_once_and_queue_the_third():
    gate, order = ModelGate(capacity=2), []
    threads = [_ask(gate, order, f"final {k}", FINAL_SLACK_S, hold_s=0.5) for k in range(2)]
    assert order == ["final 0", "final 1"]  # the second did not wait for the first
    threads.append(_ask(gate, order, "final 2", FINAL_SLACK_S))
    threads.append(_ask(gate, order, "partial", 0.0))
    assert gate.waiting() == 2
    for th in threads:
        th.join(5)
    assert order == ["final 0", "final 1", "partial", "final 2"]
