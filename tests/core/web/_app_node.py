"""One guidepath app node in a process of its own, for tests that need several nodes.

    python tests/core/web/_app_node.py [PORT]

The configuration comes from the ``GUIDEPATH_*`` environment variables, as in
production (``GUIDEPATH_DATABASE_URL``, ``GUIDEPATH_REDIS_URL``,
``GUIDEPATH_KAFKA_BOOTSTRAP``, ``GUIDEPATH_MASTER_KEY``, ``GUIDEPATH_DATA_DIR``…).
Serves ``create_app(config)`` with werkzeug on 127.0.0.1:PORT (0: any free port),
prints ``READY <port>`` once listening, and on SIGTERM stops serving and closes the
kernel (leaving the Kafka consumer group, so the other members take over at once).
"""

from __future__ import annotations

import signal
import sys


def main(argv: list[str]) -> int:
    port = int(argv[1]) if len(argv) > 1 else 0

    from guidepath.core.config import load_config
    from guidepath.core.web.app import create_app
    from werkzeug.serving import make_server

    app = create_app(load_config())
    kernel = app.extensions["guidepath"]
    server = make_server("127.0.0.1", port, app, threaded=True)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"READY {server.server_port}", flush=True)
    try:
        server.serve_forever()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        server.server_close()
        kernel.close()
        print("STOPPED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
