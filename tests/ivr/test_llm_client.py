"""The LLM client against a real loopback server speaking the OpenAI wire format: whatever
the model or the server does, a call gets an action or an empty result, never an exception."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest
import respx

from engine.ivr.llm_client import LLMClient, extract_json, normalise_action
from tests.ivr.chat_server import ChatServer, Reply, completion

SECRET = "sk-test-SECRET-123"
MENU = "For billing press 1. For technical support press 2. To speak to an agent press 0."


@pytest.fixture
def server():
    with ChatServer() as s:
        yield s


def client(server: ChatServer, **kw) -> LLMClient:
    kw.setdefault("timeout", 2.0)
    return LLMClient(server.url, "test-model", api_key=SECRET, **kw)


def analyze(c: LLMClient, intent: str = "my internet is down") -> dict:
    return asyncio.run(c.analyze_ivr_menu(MENU, intent, ["1"]))


def test_tool_call_reply_becomes_an_action(server):
    server.script(Reply(body=completion(tool_args={"action": "dtmf", "digits": "2",
                                                   "reasoning": "internet is technical"})))
    c = client(server)
    assert analyze(c) == {"action": "dtmf", "digits": "2", "reasoning": "internet is technical"}
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["tools"][0]["function"]["name"] == "ivr_action"
    assert "my internet is down" in sent["body"]["messages"][-1]["content"]
    assert "Keys already pressed in this call: 1" in sent["body"]["messages"][-1]["content"]
    assert sent["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert c.tools_supported is True


def test_server_without_tool_calling_gets_plain_json_and_is_remembered(server):
    server.script(
        Reply(400, {"error": {"message": "tools are not supported by this model"}}),
        Reply(body=completion('{"action": "dtmf", "digits": "2", "reasoning": "tech"}')),
        Reply(body=completion('{"action": "dtmf", "digits": "0", "reasoning": "agent"}')),
    )
    c = client(server)
    assert analyze(c)["digits"] == "2"
    assert "tools" not in server.requests[1]["body"]
    assert analyze(c)["digits"] == "0"
    assert len(server.requests) == 3  # the second menu did not try tools again


@pytest.mark.parametrize("content", [
    'Sure!\n```json\n{"action": "dtmf", "digits": "2", "reasoning": "tech"}\n```\nGood luck.',
    'I think the best choice is {"action": "dtmf", "digits": "2", "reasoning": "the {tech} one"}'
    " because the internet is down.",
    '{"action": "dtmf", "digits": "2", "reasoning": "internet problems belong to technical su',
])
def test_messy_content_still_yields_the_action(server, content):
    server.script(Reply(body=completion(content)))
    assert analyze(client(server))["digits"] == "2"


def test_tool_arguments_that_are_fenced_or_prosy_still_parse(server):
    server.script(Reply(body=completion(
        tool_args='```json\n{"action": "press", "digits": "press 2", "reasoning": "x"}\n```')))
    assert analyze(client(server)) == {"action": "dtmf", "digits": "2", "reasoning": "x"}


def test_rate_limit_is_retried_once(server):
    server.script(Reply(429, {"error": "slow down"}, headers={"Retry-After": "0.1"}),
                  Reply(body=completion(tool_args={"action": "wait", "reasoning": "data"})))
    c = client(server)
    assert analyze(c) == {"action": "wait", "reasoning": "data"}
    assert c.stats["total_requests"] == 2 and c.stats["total_errors"] == 1


def test_server_errors_give_empty_results_not_exceptions(server):
    server.script(*[Reply(500, {"error": "boom"})] * 4)
    c = client(server)
    assert analyze(c) == {}
    assert asyncio.run(c.chat("hello")) == ""
    assert c.stats["total_errors"] == 4


def test_a_slow_server_costs_one_timeout(server):
    server.script(Reply(body=completion("late"), delay=3.0))
    c = client(server, timeout=0.5)
    t0 = time.monotonic()
    assert analyze(c) == {}
    assert time.monotonic() - t0 < 2.0
    assert c.stats["total_errors"] == 1


def test_no_server_at_all():
    c = LLMClient("http://127.0.0.1:9", "m", timeout=1.0)
    assert asyncio.run(c.chat_json("x")) == {}
    assert c.stats["total_errors"] == 1


def test_garbage_body_and_unknown_actions_are_empty(server):
    server.script(Reply(body="<html>proxy error</html>"),
                  Reply(body=completion('{"action": "launch_rocket", "reasoning": "?"}')))
    c = client(server)
    assert analyze(c) == {}
    assert analyze(c) == {}


def test_chat_and_chat_json(server):
    server.script(Reply(body=completion("Hello there")),
                  Reply(body=completion('Here you go: {"queue": "billing", "n": 2}')))
    c = client(server)
    assert asyncio.run(c.chat("hi", system="be brief")) == "Hello there"
    assert server.requests[0]["body"]["messages"][0] == {"role": "system",
                                                         "content": "be brief"}
    assert asyncio.run(c.chat_json("which queue?")) == {"queue": "billing", "n": 2}
    stats = c.stats
    assert stats["total_requests"] == 2 and stats["total_errors"] == 0
    assert stats["model"] == "test-model" and stats["base_url"] == server.url
    assert stats["avg_latency_ms"] > 0


def test_api_key_never_reaches_logs_repr_or_stats(server, caplog):
    caplog.set_level(logging.DEBUG)
    server.script(Reply(401, {"error": f"bad key {SECRET[:3]}"}), Reply(500, "x"),
                  Reply(500, "x"))
    c = client(server)
    analyze(c)
    asyncio.run(c.chat("x"))
    assert SECRET not in caplog.text
    assert SECRET not in repr(c) and SECRET not in str(c.stats)
    assert "test-model" in caplog.text  # errors are logged with context


@respx.mock
def test_base_url_with_v1_is_not_doubled():
    route = respx.post("https://api.example.com/v1/chat/completions").mock(
        return_value=httpx.Response(200, json=completion("ok")))
    c = LLMClient("https://api.example.com/v1/", "gpt", api_key="k")
    assert asyncio.run(c.chat("x")) == "ok"
    assert route.called


@respx.mock
def test_connect_error_via_respx():
    respx.post("http://llm.local/v1/chat/completions").mock(
        side_effect=httpx.ConnectError("refused"))
    c = LLMClient("http://llm.local", "m")
    assert asyncio.run(c.analyze_ivr_menu(MENU, "x", [])) == {}


@pytest.mark.parametrize("text,expected", [
    ('{"a": 1}', {"a": 1}),
    ("```json\n{\"a\": 1}\n```", {"a": 1}),
    ('Answer: {"a": {"b": "}"}} trailing', {"a": {"b": "}"}}),
    ('{"a": 1, "b": "trunc', {"a": 1, "b": "trunc"}),
    ('{"a": 1, "b": [1, 2', {"a": 1, "b": [1, 2]}),
    ('{"a": 1, "bro', {"a": 1}),
    ("no json here", {}),
    ("[1, 2]", {}),
    ("", {}),
])
def test_extract_json(text, expected):
    assert extract_json(text) == expected


def test_normalise_action_rejects_what_cannot_be_acted_on():
    assert normalise_action({"action": "dtmf", "digits": ""}) == {}
    assert normalise_action({"action": "speak"}) == {}
    assert normalise_action({"action": "Request Agent", "reasoning": "r"}) == {
        "action": "request_agent", "reasoning": "r"}
