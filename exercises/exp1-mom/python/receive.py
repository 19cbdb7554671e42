"""exp1-mom's receiver in Python, with the official client nats-py.

    .venv/bin/python exercises/exp1-mom/python/receive.py [--server URL] [--timeout S]

Takes one stored message from the JetStream stream ipc-lab_exp1-mom,
through the durable consumer "receivers" that the Rust receivers share
(a message goes to exactly one of them, whatever their language), prints
it as seed 004's receiver does, and acknowledges it.
"""

import asyncio
import sys

from nats.errors import TimeoutError as NatsTimeout

import common

RECEIVERS = "receivers"


async def main() -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    nc = await common.connect("receive.py", args.server)
    if nc is None:
        return 1
    try:
        js = nc.jetstream()
        stream = args.subject.replace(".", "_")
        inbox = await js.pull_subscribe(args.subject, durable=RECEIVERS, stream=stream)
        try:
            [message] = await inbox.fetch(1, timeout=args.timeout)
        except NatsTimeout:
            print(
                f"receive.py: no message arrived on {args.subject} at {args.server} "
                f"within {args.timeout:g} s",
                file=sys.stderr,
            )
            return 1
        print(f"Receiver received: {message.data.decode()}", flush=True)
        await message.ack_sync(timeout=5)
    finally:
        await nc.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
