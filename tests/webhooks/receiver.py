"""A real webhook receiver on 127.0.0.1 for the tests: an http.server in a thread that checks
each delivery's signature with the verification function of docs/webhooks.md, read from that
file, and records what it took."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verify():
    """``verify_signature`` exactly as docs/webhooks.md shows it."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 — our own documentation
    return namespace["verify_signature"]


class Receiver:
    """``status``: what it answers. ``stop()`` takes it down (connections refused) and
    ``start()`` brings it back on the same port."""

    def __init__(self, secret: str, *, tolerance: int = 300):
        self.secret, self.tolerance = secret, tolerance
        self.verify = documented_verify()
        self.status = 200
        self.delay = 0.0  # seconds before answering: lets two workers overlap
        self.answer = b"ok"
        self.on_request = lambda: None  # called as each request arrives
        self.headers: dict[str, str] = {}  # sent with the answer (a redirect's Location)
        self.taken: list[dict] = []  # what it answered 2xx to
        self.bad_signatures = 0
        self.port = 0
        self.server = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/cx"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                time.sleep(receiver.delay)
                receiver.on_request()
                body = self.rfile.read(int(self.headers["Content-Length"]))
                header = self.headers.get("X-Cxloop-Signature", "")
                if not receiver.verify(receiver.secret, header, body, tolerance=receiver.tolerance):
                    receiver.bad_signatures += 1
                    self.send_response(400)
                elif receiver.status < 300:
                    receiver.taken.append(
                        {
                            "event_id": self.headers["X-Cxloop-Event-Id"],
                            "kind": self.headers["X-Cxloop-Event"],
                            "delivery": self.headers["X-Cxloop-Delivery"],
                            "path": self.path,
                            "body": json.loads(body),
                        }
                    )
                    self.send_response(receiver.status)
                else:
                    self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
