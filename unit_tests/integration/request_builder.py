"""The requests the connector should send, for HttpMocker to match.

    MeetlogRequestBuilder.list_endpoint("transcripts", key).build()
    -> GET https://meetlog.ru/api/v1/export/transcripts?page_size=100, Authorization: Bearer <key>
    MeetlogRequestBuilder.list_endpoint("transcripts", key).with_page(2).build()
    -> GET https://meetlog.ru/api/v1/export/transcripts?page=2&page_size=100
    MeetlogRequestBuilder.detail_endpoint("transcripts", key, "f3c8…").build()
    -> GET https://meetlog.ru/api/v1/export/transcripts/f3c8…
"""

from typing import Dict

from airbyte_cdk.test.mock_http import HttpRequest

from .config import BASE_URL

PAGE_SIZE = 100
FIRST_PAGE = 1


class MeetlogRequestBuilder:
    @classmethod
    def list_endpoint(cls, stream: str, api_key: str) -> "MeetlogRequestBuilder":
        # The first request names no page (the API's default is page 1): the manifest's paginator
        # adds `page` from page 2 on, and a fixed `page: 1` beside it would collide with it.
        return cls(stream, api_key).with_page_size(PAGE_SIZE)

    @classmethod
    def detail_endpoint(cls, stream: str, api_key: str, record_id: str) -> "MeetlogRequestBuilder":
        return cls(f"{stream}/{record_id}", api_key)

    def __init__(self, resource: str, api_key: str) -> None:
        self._resource = resource
        self._api_key = api_key
        self._base_url = BASE_URL
        self._query_params: Dict[str, str] = {}

    def with_base_url(self, base_url: str) -> "MeetlogRequestBuilder":
        self._base_url = base_url
        return self

    def with_page(self, page: int) -> "MeetlogRequestBuilder":
        self._query_params["page"] = str(page)
        return self

    def with_page_size(self, page_size: int) -> "MeetlogRequestBuilder":
        self._query_params["page_size"] = str(page_size)
        return self

    def build(self) -> HttpRequest:
        return HttpRequest(
            url=f"{self._base_url}/api/v1/export/{self._resource}",
            query_params=self._query_params or None,
            headers={"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"},
        )


def list_request(stream: str, api_key: str, page: int = 1) -> HttpRequest:
    builder = MeetlogRequestBuilder.list_endpoint(stream, api_key)
    return (builder.with_page(page) if page > FIRST_PAGE else builder).build()


def detail_request(stream: str, api_key: str, record_id: str) -> HttpRequest:
    return MeetlogRequestBuilder.detail_endpoint(stream, api_key, record_id).build()
