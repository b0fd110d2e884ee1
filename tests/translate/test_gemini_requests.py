"""Chat Completions requests (and, through the chat hub, Claude Code's and Codex's) as Gemini generateContent bodies."""

from __future__ import annotations

import json

import pytest

from inferaudit.translate import TranslationError, get
from inferaudit.translate.gemini_answer import call_id, signature_of
from inferaudit.translate.gemini_request import DROPPED

TO_GEMINI = get("openai-chat", "gemini")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
# the signature Gemini 3 Pro put on its call in tests/providers/data/gemini-3-pro-tool-call.json
SIGNATURE = "EskgCsYgAb4+9vtF7/499YQS2bjZs3xcQI+iAl+ILn29nK1j0Kg6su7QsUUUk3nrAAfnS2w5WiVvlcCqu9fAebJ2cvfaEyBahEt5"
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}


def chat_request(**extra) -> dict:
    """An OpenAI SDK client's request: system and developer turns, an image, a signed call and its result."""
    signed = call_id(SIGNATURE)
    return {
        "model": "gemini-alias",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Weather where this photo was taken?"},
                                         {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}}]},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": signed, "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
                {"id": "call_plain", "type": "function", "function": {"name": "get_time", "arguments": ""}}]},
            {"role": "tool", "tool_call_id": signed, "content": "18C, sunny"},
            {"role": "tool", "tool_call_id": "call_plain", "content": [{"type": "text", "text": "14:05"}]},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "user", "content": "And tomorrow?", "name": "alice"},
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                                    "parameters": WEATHER, "strict": True}},
                  {"type": "function", "function": {"name": "get_time"}}],
        **extra,
    }


def test_conversation_becomes_merged_user_and_model_turns_with_the_system_lifted_out():
    out = TO_GEMINI.request(chat_request())
    assert "model" not in out and "stream" not in out  # the model and the stream flag are in the URL
    assert out["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Answer in French."}]}
    roles = [(c["role"], [next(iter(p)) for p in c["parts"]]) for c in out["contents"]]
    # the two tool results and the next user text are one user turn: Gemini gets the results together
    assert roles == [("user", ["text", "inlineData"]), ("model", ["functionCall", "functionCall"]),
                     ("user", ["functionResponse", "functionResponse", "text"])]
    assert out["contents"][0]["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": PNG}}
    signed, plain = out["contents"][1]["parts"]
    assert signed == {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": SIGNATURE}
    assert plain == {"functionCall": {"name": "get_time", "args": {}}}  # an id the gateway did not mint carries none
    first, second, text = out["contents"][2]["parts"]
    assert first == {"functionResponse": {"name": "get_weather", "response": {"output": "18C, sunny"}}}
    assert second == {"functionResponse": {"name": "get_time", "response": {"output": "14:05"}}}
    assert text == {"text": "And tomorrow?"}


def test_tools_pass_their_whole_json_schema_and_tool_choice_maps_to_function_calling_config():
    out = TO_GEMINI.request(chat_request(tool_choice={"type": "function", "function": {"name": "get_weather"}}))
    assert out["tools"] == [{"functionDeclarations": [
        {"name": "get_weather", "description": "Weather in a city", "parametersJsonSchema": WEATHER},
        {"name": "get_time"}]}]
    assert out["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}


@pytest.mark.parametrize("choice, config", [
    ("none", {"mode": "NONE"}),
    ("auto", {"mode": "AUTO"}),
    ("required", {"mode": "ANY"}),
    ({"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": [
        {"type": "function", "function": {"name": "get_time"}}]}}, {"mode": "ANY", "allowedFunctionNames": ["get_time"]}),
    ({"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [
        {"type": "function", "function": {"name": "get_time"}}]}}, {"mode": "VALIDATED", "allowedFunctionNames": ["get_time"]}),
])
def test_tool_choice(choice, config):
    assert TO_GEMINI.request(chat_request(tool_choice=choice))["toolConfig"] == {"functionCallingConfig": config}


def test_schema_keywords_are_removed_but_a_property_named_like_one_is_kept():
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"$schema": {"type": "string", "enum": [{"$schema": "literal"}]},
                             "inner": {"$schema": "x", "type": "object", "additionalProperties": False}},
              "$defs": {"d": {"$schema": "x", "type": "integer"}}}
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    out = TO_GEMINI.request({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [tool],
                             "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": schema}}})
    expected = {"type": "object", "properties": {"$schema": {"type": "string", "enum": [{"$schema": "literal"}]},
                                                 "inner": {"type": "object", "additionalProperties": False}},
                "$defs": {"d": {"type": "integer"}}}
    assert out["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"] == expected
    assert out["generationConfig"]["responseJsonSchema"] == expected
    assert "$schema" in schema  # the client's request is not changed in place


def test_sampling_limits_and_formats_go_to_generation_config():
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    out = TO_GEMINI.request(chat_request(
        max_completion_tokens=500, max_tokens=100, temperature=0.3, top_p=0.9, top_k=40, stop="END", seed=7, n=2,
        presence_penalty=0.5, frequency_penalty=0.25, reasoning_effort="medium",
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": schema}}))
    assert out["generationConfig"] == {
        "maxOutputTokens": 500, "temperature": 0.3, "topP": 0.9, "presencePenalty": 0.5, "frequencyPenalty": 0.25,
        "topK": 40, "seed": 7, "stopSequences": ["END"], "candidateCount": 2, "responseMimeType": "application/json",
        "responseJsonSchema": schema, "thinkingConfig": {"thinkingBudget": 8192}}
    plain = TO_GEMINI.request(chat_request(response_format={"type": "json_object"}, stop=["a", "b"], max_tokens=64, n=1))
    assert plain["generationConfig"] == {"maxOutputTokens": 64, "stopSequences": ["a", "b"], "responseMimeType": "application/json"}
    assert "generationConfig" not in TO_GEMINI.request(chat_request(response_format={"type": "text"}))


def test_dropped_fields_do_not_reach_gemini():
    extra = {"user": "u-1", "safety_identifier": "s", "metadata": {"a": "b"}, "store": True, "service_tier": "auto",
             "prompt_cache_key": "k", "verbosity": "low", "parallel_tool_calls": False,
             "stream_options": {"include_usage": True}, "prediction": {"type": "content", "content": "x"}}
    assert set(extra) == set(DROPPED) - {"prompt_cache_retention"}
    dumped = json.dumps(TO_GEMINI.request(chat_request(**extra)))
    assert set(json.loads(dumped)) == {"contents", "systemInstruction", "tools"}
    assert "u-1" not in dumped and "strict" not in dumped and "alice" not in dumped and "detail" not in dumped


@pytest.mark.parametrize("extra, field", [
    ({"logprobs": True}, "logprobs"),
    ({"top_logprobs": 3}, "top_logprobs"),
    ({"logit_bias": {"50256": -100}}, "logit_bias"),
    ({"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}}, "audio"),
    ({"web_search_options": {}}, "web_search_options"),
    ({"functions": [{"name": "f"}]}, "functions"),
    ({"reasoning_effort": "extreme"}, "reasoning_effort"),
    ({"response_format": {"type": "grammar", "grammar": "root ::= x"}}, "response_format"),
    ({"tool_choice": {"type": "custom", "custom": {"name": "g"}}}, "tool_choice"),
    ({"repetition_penalty": 1.1}, "repetition_penalty"),
])
def test_what_gemini_cannot_honour_is_refused_naming_the_field(extra, field):
    with pytest.raises(TranslationError, match=field):
        TO_GEMINI.request(chat_request(**extra))


@pytest.mark.parametrize("message, where", [
    ({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
     r"messages\[0\].content\[0\].image_url.url"),
    ({"role": "user", "content": [{"type": "file", "file": {"file_id": "file-abc"}}]}, "file_id"),
    ({"role": "tool", "tool_call_id": "call_unknown", "content": "x"}, "names no earlier assistant tool call"),
    ({"role": "function", "name": "f", "content": "x"}, r"messages\[0\].role"),
    ({"role": "assistant", "audio": {"id": "audio_1"}}, r"messages\[0\].audio"),
])
def test_a_message_gemini_cannot_take_is_refused_naming_where(message, where):
    with pytest.raises(TranslationError, match=where):
        TO_GEMINI.request({"model": "m", "messages": [message]})


def test_audio_and_pdf_parts_become_inline_data():
    out = TO_GEMINI.request({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}}]}]})
    assert out["contents"][0]["parts"] == [{"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
                                           {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}}]


def test_minted_ids_carry_the_signature_in_an_alphabet_anthropic_ids_accept():
    minted = call_id(SIGNATURE)
    assert minted.startswith("call_") and all(c.isalnum() or c in "_-" for c in minted)
    assert signature_of(minted) == SIGNATURE
    assert signature_of(call_id(None)) is None and signature_of("toolu_01abc") is None
    assert signature_of(call_id("not base64!")) is None


# -- through the chat hub ------------------------------------------------------------------


def test_claude_code_turns_reach_gemini_with_function_names_for_every_result(wire):
    request = wire.request_json("claude-code-request.json")
    out = get("anthropic-messages", "gemini").request(request)
    assert [c["role"] for c in out["contents"]] == ["user", "model", "user", "model", "user"]
    calls = [p["functionCall"]["name"] for c in out["contents"] for p in c["parts"] if "functionCall" in p]
    results = [p["functionResponse"]["name"] for c in out["contents"] for p in c["parts"] if "functionResponse" in p]
    assert calls == ["Read", "Read", "Glob", "Bash", "Read"]
    assert results == ["Read", "Read", "Glob", "Read", "Bash"]  # each named by its tool_use_id, in the client's order
    errors = out["contents"][4]["parts"]
    assert errors[0]["functionResponse"]["response"] == {"output": "EISDIR: illegal operation on a directory, read"}
    assert out["systemInstruction"]["parts"][0]["text"].startswith("You are Claude Code, Anthropic's official CLI")
    # Bash, Glob, Read: the web_search server tool runs only at Anthropic
    declared = out["tools"][0]["functionDeclarations"]
    assert [d["name"] for d in declared] == ["Bash", "Glob", "Read"]
    schema = request["tools"][2]["input_schema"]
    assert "$schema" in schema  # Claude Code names its draft; Gemini's JSON Schema fields do not take the keyword
    assert declared[2]["parametersJsonSchema"] == {k: v for k, v in schema.items() if k != "$schema"}
    assert out["generationConfig"] == {"maxOutputTokens": 32000, "temperature": 1}
    assert set(out) == {"contents", "systemInstruction", "tools", "generationConfig"}


def test_codex_style_responses_request_reaches_gemini():
    request = {"model": "gemini-alias", "instructions": "You are Codex.", "input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
        {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": '{"command": ["ls"]}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "README.md"}],
        "tools": [{"type": "function", "name": "shell", "parameters": {"type": "object", "properties": {
            "command": {"type": "array", "items": {"type": "string"}}}}}],
        "tool_choice": "auto", "parallel_tool_calls": False, "stream": True, "max_output_tokens": 2000}
    out = get("openai-responses", "gemini").request(request)
    assert out["systemInstruction"] == {"parts": [{"text": "You are Codex."}]}
    assert out["contents"][1:] == [
        {"role": "model", "parts": [{"functionCall": {"name": "shell", "args": {"command": ["ls"]}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "shell", "response": {"output": "README.md"}}}]}]
    assert out["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    assert out["generationConfig"] == {"maxOutputTokens": 2000}


def test_a_claude_image_by_url_is_refused_through_the_chain():
    request = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}]}]}
    with pytest.raises(TranslationError, match="data: URLs"):
        get("anthropic-messages", "gemini").request(request)
