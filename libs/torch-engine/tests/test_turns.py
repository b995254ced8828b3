"""Turns go in the order they were asked for: a thread that gives its turn back and asks
again at once waits behind whoever asked meanwhile."""

from __future__ import annotations

import threading

import torch

from chorus_torch import Placement, Turns, device_turns

TIMEOUT_S = 30


def test_a_turn_asked_for_while_another_runs_comes_before_the_runners_next() -> None:
    turns = Turns()
    order: list[str] = []
    asked = threading.Event()
    waiting_for_turns = threading.Event()

    def stepping() -> None:  # as the batch thread: a turn per step, straight one after another
        for step in range(3):
            with turns:
                order.append(f"step {step}")
                if step == 0:
                    waiting_for_turns.set()
                    assert asked.wait(TIMEOUT_S)
                    # The codec has asked by now: let it queue before this turn ends.
                    threading.Event().wait(0.05)

    def decoding() -> None:
        assert waiting_for_turns.wait(TIMEOUT_S)
        asked.set()
        with turns:
            order.append("codec")

    threads = [threading.Thread(target=stepping), threading.Thread(target=decoding)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
    assert order == ["step 0", "codec", "step 1", "step 2"]


def test_one_turn_at_a_time_however_many_ask() -> None:
    turns = Turns()
    inside = 0
    most = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        for _ in range(200):
            with turns:
                with lock:
                    inside += 1
                    most = max(most, inside)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
    assert most == 1


def test_the_cpu_takes_turns_and_a_gpu_does_not() -> None:
    assert isinstance(device_turns(Placement(torch.device("cpu"), torch.float32)), Turns)
    assert device_turns(Placement(torch.device("cuda"), torch.bfloat16)) is None
