"""The sandbox: a local Telegram Bot API server, a web page to chat as sample staff, a time dial."""
