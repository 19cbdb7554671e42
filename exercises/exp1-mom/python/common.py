"""What exp1-mom's two Python scripts share: their common flags, and the
connection to the NATS server, with the same words as the Rust roles
when there is none."""

import argparse
import sys

import nats

SUBJECT = "ipc-lab.exp1-mom"


def parser(doc):
    """A command line with --server and --subject, described by the first
    line of the script's `doc`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--server", default="nats://127.0.0.1:4222")
    parser.add_argument("--subject", default=SUBJECT)
    return parser


async def connect(program, server):
    """The connection to the NATS server at `server`, or None after saying
    on stderr why there is none."""
    try:
        return await nats.connect(server, connect_timeout=5, max_reconnect_attempts=0)
    except Exception as error:  # the client raises several kinds
        print(f"{program}: cannot connect to {server}: {error}", file=sys.stderr)
        return None
