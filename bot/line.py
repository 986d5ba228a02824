"""The only module that builds line-bot-sdk clients.

Both hosts are configurable so the same code talks to LINE in production and to the emulator locally:
``Configuration(host=...)`` is the SDK's supported way to move every operation, blob ones included, to
another base URL (line-platform notes §19). The SDK has no default timeout, so every call passes one.
"""

from __future__ import annotations

from dataclasses import dataclass

from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, MessagingApiBlob


@dataclass
class LineClients:
    api: MessagingApi
    blob: MessagingApiBlob
    timeout: tuple[float, float]

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
