"""A requester whose GET answers are shared with the sync's other streams (shared_responses.py)."""

from dataclasses import InitVar, dataclass
from functools import partial
from typing import Any, Callable, Mapping, MutableMapping, Optional, Union

import requests

from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.requester import HttpMethod, Requester
from airbyte_cdk.sources.streams.http.error_handlers import ResponseAction
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_meetlog import cdk_internals
from source_meetlog.components.sync_context import SyncContext


@dataclass
class SharedResponseRequester(Requester):
    """Sends through `requester` (an HttpRequester, declared in full in the manifest), except when
    another stream of this sync already had a successful answer to the same GET.

    projects:            GET …/projects/p1  -> sent (with retries), its answer kept
    project_transcripts: GET …/projects/p1  -> that answer, no request

    A wrapper rather than an HttpRequester subclass: the CDK builds a custom component's fields
    generically, and would drop what only it wires into an HttpRequester (request_headers, the
    message repository, disabled retries in test reads).
    """

    requester: HttpRequester
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        # Outside a read (no context) nothing is shared: each GET goes to the server.
        sync = SyncContext.being_built()
        self._responses = sync.responses if sync is not None else None
        self._reader = object()  # this stream's copy of the request, as the store tells readers apart

    def send_request(
        self,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
        path: Optional[str] = None,
        request_headers: Optional[Mapping[str, Any]] = None,
        request_params: Optional[Mapping[str, Any]] = None,
        request_body_data: Optional[Union[Mapping[str, Any], str]] = None,
        request_body_json: Optional[Mapping[str, Any]] = None,
        log_formatter: Optional[Callable[[requests.Response], Any]] = None,
    ) -> Optional[requests.Response]:
        send = partial(
            self.requester.send_request,
            stream_state=stream_state,
            stream_slice=stream_slice,
            next_page_token=next_page_token,
            path=path,
            request_headers=request_headers,
            request_params=request_params,
            request_body_data=request_body_data,
            request_body_json=request_body_json,
            log_formatter=log_formatter,
        )
        if self._responses is None or self.requester.get_method() != HttpMethod.GET:
            return send()
        url = self.url_of(stream_state, stream_slice, next_page_token, path, request_params)
        return self._responses.fetch(url, self._reader, send, self._is_success)

    def url_of(
        self,
        stream_state: Optional[StreamState],
        stream_slice: Optional[StreamSlice],
        next_page_token: Optional[Mapping[str, Any]],
        path: Optional[str] = None,
        request_params: Optional[Mapping[str, Any]] = None,
    ) -> str:
        """The URL, query included, that HttpRequester.send_request would send for these arguments
        (cdk_internals.url_of_request; unit_tests/test_shared_requester.py checks it against the URL sent)."""
        return cdk_internals.url_of_request(self.requester, stream_state, stream_slice, next_page_token, path, request_params)

    def _is_success(self, response: requests.Response) -> bool:
        """What the error handler calls a success: never a body it would retry (unreadable_body)."""
        handler = self.requester.error_handler
        return handler is None or handler.interpret_response(response).response_action == ResponseAction.SUCCESS

    # ------------------------------------------------------------ the rest is the wrapped requester's

    def get_authenticator(self) -> DeclarativeAuthenticator:
        return self.requester.get_authenticator()

    def get_url(self, **kwargs: Any) -> str:
        return self.requester.get_url(**kwargs)

    def get_url_base(self, **kwargs: Any) -> str:
        return self.requester.get_url_base(**kwargs)

    def get_path(self, **kwargs: Any) -> str:
        return self.requester.get_path(**kwargs)

    def get_method(self) -> HttpMethod:
        return self.requester.get_method()

    def get_request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return self.requester.get_request_params(**kwargs)

    def get_request_headers(self, **kwargs: Any) -> Mapping[str, Any]:
        return self.requester.get_request_headers(**kwargs)

    def get_request_body_data(self, **kwargs: Any) -> Union[Mapping[str, Any], str]:
        return self.requester.get_request_body_data(**kwargs)

    def get_request_body_json(self, **kwargs: Any) -> Mapping[str, Any]:
        return self.requester.get_request_body_json(**kwargs)

    @property
    def exit_on_rate_limit(self) -> bool:
        return self.requester.exit_on_rate_limit

    @exit_on_rate_limit.setter
    def exit_on_rate_limit(self, value: bool) -> None:
        self.requester.exit_on_rate_limit = value
