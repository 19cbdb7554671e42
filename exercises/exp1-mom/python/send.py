"""exp1-mom's sender in Python, with the official client nats-py.

    .venv/bin/python exercises/exp1-mom/python/send.py [--server URL] [--core]

Sends seed 004's message on the subject ipc-lab.exp1-mom: stored in the
JetStream stream ipc-lab_exp1-mom (made by the Rust receiver, or by this
script if it is missing), or with --core as plain NATS, at most once.
A Rust `exp1-mom --server URL receive` gets it, and so does receive.py.
"""

import asyncio
import sys

from nats.js.api import RetentionPolicy, StorageType, StreamConfig

import common

MESSAGE = "Hello, introduction to distributed computing"


async def main() -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--core", action="store_true", help="plain NATS, at most once")
    args = parser.parse_args()
    nc = await common.connect("send.py", args.server)
    if nc is None:
        return 1
    try:
        print(f"sender is sending: {MESSAGE}", flush=True)
        if args.core:
            await nc.publish(args.subject, MESSAGE.encode())
            await nc.flush(timeout=5)
        else:
            js = nc.jetstream()
            stream = args.subject.replace(".", "_")
            # The same stream the Rust programs make: a work queue in files.
            await js.add_stream(
                StreamConfig(
                    name=stream,
                    subjects=[args.subject],
                    retention=RetentionPolicy.WORK_QUEUE,
                    storage=StorageType.FILE,
                )
            )
            await js.publish(args.subject, MESSAGE.encode(), timeout=5)
    finally:
        await nc.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
