"""The Zalo Official Account channel (OA Open API v3): webhooks verified and parsed, messages
rendered and sent through `/v3.0/oa/message/cs`, the token pair kept fresh, the 48 h / 7-day
window kept per person."""

CHANNEL = "zalo"
