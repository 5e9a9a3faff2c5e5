"""A small webhook receiver that verifies each delivery's signature (an example to copy).

    python3 scripts/webhook_receiver.py --port 8001 --secret whsec_...

It answers 204 to deliveries whose `Catalog-Signature` verifies over the raw body with the
secret (and whose timestamp is recent), 400 otherwise, and prints one line per delivery.
The verification is `catalog.events.signature.verify`, which needs only the standard
library: copy `layers/core/catalog/events/signature.py` into a receiver of your own.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "core"))

from catalog.events.signature import EVENT_ID_HEADER, HEADER, verify


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--tolerance", type=int, default=300, help="seconds (replays)")
    args = parser.parse_args()

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, format: str, *log_args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            signature = self.headers.get(HEADER, "")
            ok = verify(args.secret, signature, body, args.tolerance)
            event = json.loads(body) if ok else {}
            print(
                f"{'verified' if ok else 'REFUSED'} {event.get('type', '?')} "
                f"id={self.headers.get(EVENT_ID_HEADER)} subject={event.get('subject', '?')}",
                flush=True,
            )
            self.send_response(204 if ok else 400)
            self.send_header("Content-Length", "0")
            self.end_headers()

    HTTPServer(("127.0.0.1", args.port), Receiver).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
