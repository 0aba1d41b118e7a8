"""The job queue's broker where no broker server runs (``make run``, the embedded demo): kombu's
folder transport, with each message written whole before it can be read.

kombu's own writes a message file in place (open, then write) while a worker lists the
folder and takes every file it finds: a worker could take a file its writer had not filled
yet, and a process killed while writing (a crash, ``kill -9``) left an empty file behind. Either
way the worker read an empty message, raised ``JSONDecodeError`` out of its consumer loop and
exited, and every worker started after it read the same file and exited too. Here a message
is written under a name the workers do not take, then renamed (atomically) to its own; a file
that still cannot be read is logged and left aside, and the worker goes on with the next.

Registered as the ``dakghor-folder`` transport (``jobs.make_celery``).
"""

from __future__ import annotations

import logging
import os
import uuid
from queue import Empty
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)
NAME = "dakghor-folder"
PART = ".part"  # a message being written: no worker takes it


class Channel(filesystem.Channel):
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        part = final + PART
        try:
            with open(part, "wb") as f:
                f.write(str(dumps(payload)).encode())  # type: ignore[no-untyped-call]
            os.replace(part, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue: Any, timeout: Any = None) -> Any:
        while True:
            payload = self._next_file(queue)
            try:
                return loads(payload.decode())  # type: ignore[no-untyped-call]
            except ValueError:
                log.error("a message of queue %s could not be read and was left aside", queue)
                self._set_aside(queue, payload)

    def _next_file(self, queue: str) -> bytes:
        """The next message file's bytes (kombu's own ``_get`` without its decoding)."""
        wanted = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.partition(".")[2] != wanted:  # another queue's, or still being written
                continue
            path = os.path.join(self.data_folder_in, filename)
            taken = f"{path}.{uuid.uuid4().hex}.taken"
            try:
                os.replace(path, taken)  # taken by this worker alone
            except OSError:  # another worker took it first
                continue
            try:
                with open(taken, "rb") as f:
                    return f.read()
            finally:
                os.remove(taken)
        raise Empty()

    def _set_aside(self, queue: str, payload: bytes) -> None:
        folder = os.path.join(self.data_folder_in, "unreadable")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{uuid.uuid4()}.{queue}.msg"), "wb") as f:
            f.write(payload)


class Transport(filesystem.Transport):
    Channel = Channel


def register() -> str:
    """Register the transport's name with kombu; the broker URL's scheme."""
    TRANSPORT_ALIASES[NAME] = f"{__name__}:Transport"
    return f"{NAME}://"
