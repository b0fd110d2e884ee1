"""The gateway's config file: what is checked when it loads, so a bad value fails at start-up, not per request."""

from __future__ import annotations

import re

import pytest

from inferaudit.gateway import ConfigError, GatewayConfig


@pytest.mark.parametrize(("provider", "message"), [
    ({"base_url": "api.openai.com/v1"}, "base_url must be an http:// or https:// URL, not 'api.openai.com/v1'"),
    ({"base_url": "ftp://host"}, "base_url must be an http:// or https:// URL"),
    ({"base_url": "http://host", "headers": {"x-team": "a\r\nx-injected: 1"}}, "'x-team' is not a header name"),
    ({"base_url": "http://host", "headers": {"bad name": "v"}}, "'bad name' is not a header name"),
    ({"base_url": "http://host", "headers": {"x-team": "équipe"}}, "one-line ASCII value"),
    ({"base_url": "http://host", "headers": ["x-team: a"]}, "headers must be a mapping"),
])
def test_provider_urls_and_headers_are_checked_at_load(provider, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        GatewayConfig.from_dict({"providers": {"p": provider}})
    assert GatewayConfig.from_dict({"providers": {"p": {"base_url": "https://h:8443/v1", "headers": {"x-team": "a"}}}})
