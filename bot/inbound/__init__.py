"""Where updates come in from the messengers: polling, webhooks, the inbox."""
