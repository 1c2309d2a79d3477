"""Every place where the connector leans on a private attribute or behaviour of airbyte-cdk.

Each use below names the CDK file it depends on and says why no public setting does the job.
setup.py pins the CDK to the minor version these were read from, and
unit_tests/test_cdk_internals.py checks every attribute named here, failing with its name and the
CDK version when a release removes or renames one.
"""


# ---------------------------------------------------------------- one read's context and its statuses
# (sync_context.py, rate_limit_status.py; used by source.py's streams())

from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource  # noqa: E402
from airbyte_cdk.sources.message import MessageRepository  # noqa: E402


def read_message_repository(source: ConcurrentDeclarativeSource) -> MessageRepository:
    """The message repository of a ConcurrentDeclarativeSource: a ConcurrentMessageRepository over
    the read's queue, so a status a worker thread sends reaches stdout in order with the records."""
    # Why: airbyte_cdk/sources/declarative/concurrent_declarative_source.py keeps it as
    # `_message_repository` and offers no public accessor (`message_repository` is AbstractSource's default).
    return source._message_repository
