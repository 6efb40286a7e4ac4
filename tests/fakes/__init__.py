"""Local stand-ins for the external services the bot talks to (used only by tests)."""

from .telegram import ApiCall, FakeTelegram, StoredFile, UploadedFile, WebhookDelivery

__all__ = ["ApiCall", "FakeTelegram", "StoredFile", "UploadedFile", "WebhookDelivery"]
