"""The only module that builds line-bot-sdk clients.

Both hosts are configurable so the same code talks to LINE in production and to the emulator locally:
``Configuration(host=...)`` is the SDK's supported way to move every operation, blob ones included, to
another base URL (line-platform notes §19). The SDK has no default timeout, so every call passes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from linebot.v3.messaging import ApiClient, ApiResponse, Configuration, MessagingApi, MessagingApiBlob


@dataclass
class LineClients:
    api: MessagingApi
    blob: MessagingApiBlob
    timeout: tuple[float, float]

    def post_json(self, path: str, body: dict[str, Any], retry_key: str | None = None) -> ApiResponse:
        """POST a body already in LINE's JSON format through the SDK's own client (its connection pool, bearer
        token, timeout and ``ApiException`` on any non-2xx answer), skipping only the SDK's request model.

        For a multicast the model is the cost: validating 500 user ids into pydantic objects and serialising
        them back took about 3 ms per request, a large share of a worker's CPU at LINE's 200 requests/s. The
        caller still validates the message objects with the SDK's models (``bot.delivery``)."""
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if retry_key:
            headers["X-Line-Retry-Key"] = retry_key
        return self.api.api_client.call_api(
            path, "POST", {}, [], headers, body=body, post_params=[], files={},
            response_types_map={"200": "object"}, auth_settings=["Bearer"], _request_timeout=self.timeout,
            _host=self.api.line_base_path, collection_formats={})

    def close(self) -> None:
        self.api.api_client.close()
        self.blob.api_client.close()


def make_line_clients(access_token: str, api_base_url: str, data_api_base_url: str,
                      timeout_seconds: float) -> LineClients:
    def client(host: str) -> ApiClient:
        configuration = Configuration(host=host.rstrip("/"), access_token=access_token)
        # Retries are ours (outbox with retry keys), never urllib3's blind ones.
        configuration.retries = 0
        configuration.connection_pool_maxsize = 32
        return ApiClient(configuration)

    return LineClients(
        api=MessagingApi(client(api_base_url)),
        blob=MessagingApiBlob(client(data_api_base_url)),
        timeout=(min(3.0, timeout_seconds), timeout_seconds),
    )
