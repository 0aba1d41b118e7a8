"""The folder broker of ``make run`` (logistics/broker.py): a message is never read before it is
whole, and a file that cannot be read (a writer killed mid-write left it empty or cut short) is
set aside, not raised out of the worker's loop. With kombu's own folder transport the worker
exited on such a file, and so did every worker started after it."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection

from logistics import broker


def _queue() -> str:
    """A queue of the test's own: kombu keeps the queues it has bound for the whole process,
    and would not bind one of an earlier test again in this test's folder."""
    return f"jobs{uuid.uuid4().hex[:8]}"


def _connection(folder: Path) -> Connection:
    return Connection(
        broker.register(),
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
        },
    )


def test_a_message_goes_through_whole(tmp_path: Path) -> None:
    with _connection(tmp_path) as conn:
        q = conn.SimpleQueue(_queue())
        q.put({"job": "book", "upload": 7})
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
        msg = q.get(timeout=2)
        assert msg.payload == {"job": "book", "upload": 7}
        msg.ack()
        q.close()


@pytest.mark.parametrize("bad", [b"", b'{"body": "eyJ'], ids=["empty", "cut short"])
def test_an_unreadable_file_is_set_aside_and_the_next_message_read(
    tmp_path: Path, bad: bytes
) -> None:
    with _connection(tmp_path) as conn:
        name = _queue()
        q = conn.SimpleQueue(name)
        q.put({"n": 2})
        (good,) = [p for p in tmp_path.iterdir() if p.name.endswith(f".{name}.msg")]
        # Older than the good one (file names sort by time): what a killed writer left.
        (tmp_path / f"0_dead.{name}.msg").write_bytes(bad)
        assert sorted(p.name for p in tmp_path.glob(f"*.{name}.msg"))[0] == f"0_dead.{name}.msg"
        msg = q.get(timeout=2)
        assert msg.payload == {"n": 2} and not good.exists()
        msg.ack()
        aside = list((tmp_path / "unreadable").iterdir())
        assert [p.read_bytes() for p in aside] == [bad]
        with pytest.raises(Empty):
            q.get(timeout=0.2)
        q.close()


def test_a_message_being_written_is_not_taken(tmp_path: Path) -> None:
    """What a writer has not finished is under a name no worker takes (kombu's own transport
    wrote in place, and a worker could read the file empty before its writer filled it)."""
    body = json.dumps({"body": "x"})
    name = _queue()
    (tmp_path / f"1_writing.{name}.msg{broker.PART}").write_text(body)
    with _connection(tmp_path) as conn:
        q = conn.SimpleQueue(name)
        with pytest.raises(Empty):
            q.get(timeout=0.2)
        q.close()
    assert os.path.exists(tmp_path / f"1_writing.{name}.msg{broker.PART}")
