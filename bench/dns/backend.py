#!/usr/bin/env python3
"""Health-check backend for the failover-under-load phase of bench.py.

Usage: backend.py PORT   (listens on 127.0.0.1:PORT; commands one per line on stdin)

Answers every GET or HEAD with 200 "OK" (HTTP/1.0: one request per connection, like the
daemon's probes). Commands, each acknowledged by one line on stdout with the wall-clock time
(time.time()) at which it took effect:
  down    stop serving and close the listening socket: probes now get "connection refused"
          -> "down <time after close>"
  up      bind and listen again (SO_REUSEADDR), serve          -> "up <time after listen>"
  stats   -> "stats <requests answered so far>"
  EOF on stdin: close everything and exit.
At start it listens at once and prints "up <time>". A failure prints "error <text>".
"""
import http.server
import socketserver
import sys
import threading
import time

served = 0


class Handler(http.server.BaseHTTPRequestHandler):
    timeout = 2  # a client that connects and sends nothing cannot hold a thread for long

    def _answer(self, body):
        global served
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "3")
        self.end_headers()
        if body:
            self.wfile.write(b"OK\n")
        served += 1

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._answer(True)

    def do_HEAD(self):  # noqa: N802
        self._answer(False)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingTCPServer):
    # socketserver.TCPServer, not http.server.HTTPServer: the latter resolves the host name
    # (getfqdn) at every bind.
    allow_reuse_address = True
    daemon_threads = True


def say(*words):
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def main():
    port = int(sys.argv[1])
    state = {"srv": None, "thread": None}

    def up():
        deadline = time.monotonic() + 3
        while True:
            try:
                srv = Server(("127.0.0.1", port), Handler)
                break
            except OSError as e:
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"bind 127.0.0.1:{port}: {e}") from e
                time.sleep(0.05)
        t = time.time()
        th = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        th.start()
        state["srv"], state["thread"] = srv, th
        return t

    def down():
        srv, th = state["srv"], state["thread"]
        if srv is None:
            return time.time()
        srv.shutdown()      # the serve loop exits within poll_interval
        srv.server_close()  # the listening socket is closed: connects are refused from here
        t = time.time()
        th.join(timeout=2)
        state["srv"] = state["thread"] = None
        return t

    try:
        say("up", f"{up():.6f}")
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "down":
                say("down", f"{down():.6f}")
            elif cmd == "up":
                if state["srv"] is not None:
                    say("up", f"{time.time():.6f}")
                else:
                    say("up", f"{up():.6f}")
            elif cmd == "stats":
                say("stats", served)
            elif cmd:
                say("error", "unknown command", cmd)
    except Exception as e:  # noqa: BLE001
        say("error", str(e).replace("\n", " "))
        return 1
    finally:
        down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
