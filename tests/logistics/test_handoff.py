"""The hand-off thread (logistics/handoff.py): every id committed is handed to the job queue
once, many to a message, and a failed hand-over does not stop the next."""

from __future__ import annotations

import threading

from logistics.handoff import Handoff


def test_every_id_is_handed_over_once_in_batches_of_at_most_most() -> None:
    sent: list[list[int]] = []
    relay = Handoff("test", sent.append, linger_s=0.01, most=7)
    go = threading.Barrier(8)

    def commit(k: int) -> None:
        go.wait()
        for n in range(25):
            relay.put([k * 1000 + n])

    threads = [threading.Thread(target=commit, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert relay.flush(5)
    ids = [i for batch in sent for i in batch]
    assert sorted(ids) == sorted(k * 1000 + n for k in range(8) for n in range(25))
    assert all(1 <= len(b) <= 7 for b in sent)
    assert len(sent) < len(ids)  # many ids to a message


def test_a_failed_hand_over_does_not_stop_the_next() -> None:
    sent: list[list[int]] = []

    def send(batch: list[int]) -> None:
        if batch[0] == 1:
            raise ConnectionError("broker down")
        sent.append(batch)

    relay = Handoff("test", send, linger_s=0.0, most=1)
    relay.put([1])
    assert relay.flush(5)
    relay.put([2, 3])
    assert relay.flush(5)
    assert sent == [[2], [3]]


def test_flush_with_no_thread_hands_over_in_the_caller() -> None:
    sent: list[list[int]] = []
    relay = Handoff("test", sent.append)
    assert relay.flush(1)  # nothing put: nothing to do
    relay.put([])  # nothing to hand over starts nothing
    assert sent == []
