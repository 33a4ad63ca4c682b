#!/usr/bin/env python3
"""Opens many SMTP sessions to one server, greets with EHLO on each and leaves them idle.

Used by run.sh to measure the MailMesh ingress's memory at a given number of concurrent
sessions: a session that has said EHLO holds everything a real client's session holds
before it sends mail. Prints "ready N" once every session has its EHLO reply, then holds
them open until stdin closes or the hold time runs out, so it never outlives run.sh for long.
"""

import argparse
import select
import socket
import sys
import time


def read_reply(sock, buffer):
    """Reads one complete SMTP reply (the last line has a space after the code)."""
    while True:
        while b"\r\n" in buffer:
            line, buffer = buffer.split(b"\r\n", 1)
            if len(line) >= 4 and line[3:4] == b" ":
                return line, buffer
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buffer += chunk


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--hold", type=float, default=120.0,
                        help="seconds to keep the sessions open at most")
    args = parser.parse_args()

    sessions = []
    try:
        for _ in range(args.sessions):
            sock = socket.create_connection((args.host, args.port), timeout=30)
            banner, rest = read_reply(sock, b"")
            if not banner.startswith(b"220"):
                raise ConnectionError(f"banner: {banner!r}")
            sock.sendall(b"EHLO bench.client.test\r\n")
            reply, _ = read_reply(sock, rest)
            if not reply.startswith(b"250"):
                raise ConnectionError(f"EHLO: {reply!r}")
            sessions.append(sock)
    except (OSError, ConnectionError) as error:
        print(f"failed after {len(sessions)} sessions: {error}", flush=True)
        return 1

    print(f"ready {len(sessions)}", flush=True)
    # Waiting on stdin rather than a signal: run.sh closes it to end the hold.
    deadline = time.monotonic() + args.hold
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sys.stdin], [], [], 1.0)
        if readable and not sys.stdin.readline():
            break

    for sock in sessions:
        try:
            sock.sendall(b"QUIT\r\n")
        except OSError:
            pass
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
