"""A local Meetlog Export API server for the connector's tests and benchmarks.

    from integration_tests.meetlog_server import MeetlogServer, build_dataset, faults

    with MeetlogServer(dataset=build_dataset(), requests_per_window=60, window_seconds=60.0) as server:
        key = server.add_key(scopes=("export:transcripts",))
        server.base_url                       # http://127.0.0.1:<free port>
        server.dataset.transcripts("acme")    # expected list items, in API order

Where the doc is silent, this server chooses (and the tests pin down):
- page_size above 100 is clamped to 100 (meta shows 100); a non-integer or < 1 page/page_size is 400.
- the rate limit is a sliding log per key; every request of an active key counts, 401s do not.
- transcripts are newest first (documented); reports newest first unless reports_order says
  "oldest" or "shuffled"; projects oldest first. Ties on created_at are broken by id.
- a path under /api/ outside /api/v1/export/ is 403 for a valid key; unknown export paths are 404.
- foreign records are 404 with the same body as missing ones.
"""

from . import faults
from .dataset import Dataset
from .faults import Fault
from .handler import IncomingRequest
from .keys import ALL_SCOPES
from .request_log import RequestRecord
from .seed import build_dataset
from .server import MeetlogServer

__all__ = [
    "ALL_SCOPES",
    "Dataset",
    "Fault",
    "IncomingRequest",
    "MeetlogServer",
    "RequestRecord",
    "build_dataset",
    "faults",
]
