"""A dataset kept on the producer's own server is fetched through the platform, only under an
agreement; a file that no longer matches its declared checksum is refused."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from marketplace.data.services import LinkedFile, dataset_version_add
from marketplace.data.services.access import RemoteUnavailable, delivery_open
from tests.factories import dataset_make

from .helpers import agree, download, offer_make

CONTENT = b"line,value\nA,1\nB,2\n"


class _Handler(BaseHTTPRequestHandler):
    body = CONTENT

    def do_GET(self):  # noqa: N802 - the http.server API
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def producer_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/export.csv"
    server.shutdown()
    server.server_close()
    _Handler.body = CONTENT


@pytest.fixture
def remote_offer(city, staff, producer_server):
    dataset = dataset_make(city=city, by=staff)
    dataset_version_add(
        by=staff,
        dataset=dataset,
        links=[
            LinkedFile(
                access_url=producer_server,
                format="CSV",
                media_type="text/csv",
                byte_size=len(CONTENT),
                sha256=hashlib.sha256(CONTENT).hexdigest(),
            )
        ],
    )
    return offer_make(dataset=dataset, by=staff)


def test_the_platform_fetches_the_producer_s_file_under_the_agreement(remote_offer, consumer):
    agreement = agree(remote_offer, consumer)
    body, stream = download(agreement, consumer)
    assert body == CONTENT
    assert stream.delivery.sha256 == hashlib.sha256(CONTENT).hexdigest()


def test_a_changed_remote_file_is_refused(remote_offer, consumer):
    agreement = agree(remote_offer, consumer)
    _Handler.body = b"line,value\nA,999\nB,2\n"
    with pytest.raises(RemoteUnavailable):
        delivery_open(agreement=agreement, user=consumer)
    agreement.refresh_from_db()
    assert agreement.requests_used == 0
