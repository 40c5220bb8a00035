"""Writes the fixtures of `GGUFTokenizerTests.swift` and `ChatTemplateTests.swift`.

For tokenizers built from GGUF metadata: small synthetic vocabularies (trained here with the
`tokenizers` library on the deterministic text of `../tokenizers/make_tokenizer_fixtures.py`) are
written as tiny GGUF files with gguf's `GGUFWriter` into a temporary folder, loaded with
`AutoTokenizer.from_pretrained(folder, gguf_file=name)`, and their metadata and transformers' ids
for a set of test strings are saved as `<name>.json`:

    {"metadata": {key: {"type": "string" | "bool" | "uint32" | "int32[]" | "float32[]" |
                            "string[]", "value": ...}},
     "cases": [{"text", "ids", "ids_with_special_tokens", "decoded"}]}

    gpt2-llama-bpe   byte-level BPE, pre-tokenizer `llama-bpe` (LLaMA-3's split), add_bos_token
                     true, control tokens <|begin_of_text|> <|eot_id|>, a user-defined token.
    gpt2-qwen2       byte-level BPE, pre-tokenizer `qwen2`, ChatML control tokens, no BOS flag.
    gpt2-gpt-2       byte-level BPE, pre-tokenizer `gpt-2` (GPT-2's split), add_eos_token true.
    llama-spm        SentencePiece-style: <unk> <s> </s>, <0x00>..<0xFF> byte tokens, scores and
                     no merges (transformers derives them from the scores); no BOS flag.

`smollm2-135m-instruct.json` holds transformers' ids for the same strings with the real
SmolLM2-135M-Instruct tokenizer (`.models/SmolLM2-135M-Instruct.Q4_1.gguf`, fetched by
`Scripts/fetch-smollm2`; skipped with a message when that file is absent). transformers builds the
`smollm` pre-tokenizer as plain GPT-2 ByteLevel, while SmolLM2's own tokenizer.json (and llama.cpp)
first split every numeric character alone (`Digits(individual_digits=True)`); the two differ on
numerals outside 0-9 (`①`, `²`, `ⅷ`, Arabic-Indic digits). Where they differ, the case also holds
`reference_ids`: the ids of the tokenizer.json pipeline, rebuilt here from the same vocabulary.

`chat-templates.json` holds chat templates (SmolLM2's own, read from the real GGUF when present,
else the copy below; Qwen2's; LLaMA-3's; LLaMA-2's; Mistral's v0.1 and v0.3) and what transformers'
`apply_chat_template(messages, tokenize=False, add_generation_prompt=...)` renders for several
conversations, or the error it raises.

Run from the repository root with a Python that has transformers, gguf and tokenizers (tested with
transformers 5.25.0, gguf 0.19.0, tokenizers 0.23.3):

    python Tests/TransformerTests/Fixtures/gguf-tokenizers/make_gguf_tokenizer_fixtures.py
"""

import importlib.util
import json
import sys
import tempfile
from pathlib import Path

import gguf
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import AutoTokenizer

OUTPUT_DIRECTORY = Path(__file__).resolve().parent
REPOSITORY = OUTPUT_DIRECTORY.parents[3]
REAL_MODEL = REPOSITORY / ".models" / "SmolLM2-135M-Instruct.Q4_1.gguf"

_spec = importlib.util.spec_from_file_location(
    "make_tokenizer_fixtures", OUTPUT_DIRECTORY.parent / "tokenizers" / "make_tokenizer_fixtures.py")
base_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base_fixtures)

TEST_STRINGS = [
    "", "Hello world", " Hello world", "   leading spaces", "trailing space ", "Hello   world",
    "12345", "3.14159 and 2,718,281", "year 2024, 007", "don't", "I'M SURE they'd've, we'll",
    "tab\tseparated\tvalues", "line one\nline two\n\nline four", "\r\n windows\r\n", "   \n   ",
    "café naïve résumé Zürich", "e\u0301 versus é", "東京は日本の首都です。", "Привет, мир!",
    "emoji 🙂 👍🏽 🚀🚀", "family 👨‍👩‍👧", "def f(x):\n    return x * 2\n",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }", "https://example.com/path?q=1&r=2",
    "<|im_start|>user\nHi<|im_end|>", "<|im_start|>assistant\nHello!<|im_end|>\n",
    "a<|endoftext|>b", "<|begin_of_text|>Hi<|eot_id|>", "<s>Hello</s> <unk>", "<think>why</think> because",
    "$100.00 #tag @user 1+1=2", "١٢٣ digits ²³ ⅷ ①",
]

SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

QWEN2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)

LLAMA2_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)

MISTRAL_V01_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)

MISTRAL_V03_TEMPLATE = """{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.last and system_message is defined %}
            {{- '[INST] ' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}
        {%- else %}
            {{- '[INST] ' + message['content'] + '[/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content']|trim + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""

QWEN25_TEMPLATE = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""

# LLaMA-3.2's shape, without tools: a dated system header, then headed turns. `date_string` is
# passed explicitly (the real template falls back to strftime_now, today's date).
LLAMA32_TEMPLATE = """{{- bos_token }}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message #}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{{- system_message }}
{{- "<|eot_id|>" }}

{%- for message in messages %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

# Small templates on Jinja's corners: whitespace rules, values as Python writes them, loops,
# namespaces, macros, filters, tests and methods. Rendered with the multi-turn conversation.
SNIPPETS = [
    "a  {{- ' b ' -}}  c\n  {%- if true %} d {% endif -%}\n e",
    "{% for m in messages %}\n  {{ m.role }}\n{% endfor %}\n",
    "x\n    {% if true %}\n    inner\n    {% endif %}\ny",
    "start {% if true %}mid{% endif %} end\n  {# comment #}\n  tail",
    "{%+ if true %}  kept{% endif %}|{{ 'a' }}  {%- if true %}b{%- endif %}",
    "{{ 1/2 }} {{ 4/2 }} {{ 7//2 }} {{ -7//2 }} {{ -7 % 3 }} {{ 2**10 }} {{ 0.1 + 0.2 }} {{ 3 * 'ab' }} {{ 1e3 }}",
    "{{ none }} {{ true }} {{ [1, 'a', none, true, 2.5] }} {{ {'k': 'v', 'n': [1]} }} {{ undefined_name }}|",
    "{{ messages[0] }}",
    "{{ messages | length }} {{ messages[1:3] | map(attribute='role') | join(',') }} {{ messages[::-1][0].content }}",
    "{{ 'abcdef'[1:4] }} {{ 'abcdef'[::-2] }} {{ 'abcdef'[-2:] }} {{ [1,2,3][5:] }} {{ 'abc'[-1] }}",
    "{% for m in messages %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }}"
    "{{ loop.previtem.role if loop.previtem is defined else '-' }};{% endfor %}",
    "{% set ns = namespace(found=false, count=0) %}{% for m in messages %}{% if m.role == 'user' %}"
    "{% set ns.count = ns.count + 1 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.count }}",
    "{% set outer = 1 %}{% for m in messages %}{% set outer = 2 %}{% endfor %}{{ outer }}",
    "{% macro row(m, sep=': ') -%}\n{{ m.role }}{{ sep }}{{ m.content }}\n{%- endmacro %}"
    "{% for m in messages %}{{ row(m) }}|{{ row(m, sep='=') }}\n{% endfor %}",
    "{{ '  Padded  ' | trim }}|{{ 'MiXed' | lower }}|{{ 'MiXed' | upper }}|{{ 'word' | capitalize }}|"
    "{{ 'a-b-c'.split('-') }}|{{ ' x y '.split() }}|{{ 'xxhixx'.strip('x') }}|{{ 'hello'.replace('l', 'L') }}|"
    "{{ 'Hello'.startswith('He') }}{{ 'Hello'.endswith('lo') }}",
    "{{ undefined_name | default('fallback') }} {{ '' | default('empty', true) }} {{ 'x' | default('y') }}"
    " {{ [3, 1, 2] | first }} {{ [3, 1, 2] | last }} {{ 'abc' | list }} {{ [1, 2] | reverse | list }} {{ '42' | int + 1 }}",
    "{{ {'b': 1, 'a': 'é\\n\"q\"'} | tojson }} {{ [none, true, 1.5, 'x'] | tojson }}",
    "{% for k, v in {'x': 1, 'y': 2}.items() %}{{ k }}{{ v }}{% endfor %} {{ {'x': 1}.get('x') }}"
    " {{ {'x': 1}.get('z', 'd') }} {{ {'x': 1}.keys() | list }} {{ 'x' in {'x': 1} }}",
    "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'b' > 'a' }} {{ 1 == 1.0 }} {{ 'a' ~ 1 ~ none }} {{ 'ell' in 'hello' }}"
    " {{ 2 not in [1, 3] }} {{ not true or false }} {{ 0 or 'alt' }} {{ 1 and 'second' }}",
    "{{ 4 is even }} {{ 9 is divisibleby 3 }} {{ none is none }} {{ 'x' is string }} {{ 1 is number }}"
    " {{ messages is sequence }} {{ messages[0] is mapping }} {{ x is not defined }} {{ 'a' is in 'abc' }}",
    "{% for m in messages if m.role != 'system' %}{{ m.role[0] }}{% else %}none{% endfor %}"
    "|{% for m in [] %}x{% else %}empty{% endfor %}",
    "{% for i in range(10) %}{% if i is odd %}{% continue %}{% endif %}{% if i > 6 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% set greeting %}Hi {{ messages[1].content }}{% endset %}{{ greeting | upper }}",
    "{% for m in messages | selectattr('role', 'equalto', 'user') %}{{ m.content }};{% endfor %}"
    "{{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='role') | join(' ') }}",
    "{{ 'a' + 1 }}",
    "{{ raise_exception('custom failure') }}",
]

CONVERSATIONS = {
    "system-and-user": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 2+2?"},
    ],
    "user-only": [{"role": "user", "content": "  Hi there!\n"}],
    "multi-turn": [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Bonjour !"},
        {"role": "user", "content": "How are you?"},
    ],
    "no-system-multi-turn": [
        {"role": "user", "content": "One"},
        {"role": "assistant", "content": "Two"},
        {"role": "user", "content": "Three"},
    ],
    "bad-alternation": [
        {"role": "user", "content": "One"},
        {"role": "user", "content": "Two"},
    ],
}

SPECIAL_TOKENS = {
    "smollm2": ("<|im_start|>", "<|im_end|>"),
    "qwen2": ("<|endoftext|>", "<|im_end|>"),
    "llama3": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama2": ("<s>", "</s>"),
    "mistral-v0.1": ("<s>", "</s>"),
    "mistral-v0.3": ("<s>", "</s>"),
    "qwen2.5": ("<|endoftext|>", "<|im_end|>"),
    "llama3.2": ("<|begin_of_text|>", "<|eot_id|>"),
}


def train_byte_level(special_tokens):
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=420, special_tokens=special_tokens,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(base_fixtures.training_lines(), trainer)
    model = json.loads(tokenizer.to_str())["model"]
    tokens = [token for token, _ in sorted(model["vocab"].items(), key=lambda item: item[1])]
    merges = [" ".join(merge) if isinstance(merge, list) else merge for merge in model["merges"]]
    return tokens, merges


def byte_level_metadata(pre, control, user_defined, special_ids, flags):
    tokens, merges = train_byte_level(control)
    tokens += user_defined
    token_types = [3 if token in control else 4 if token in user_defined else 1 for token in tokens]
    metadata = {
        "tokenizer.ggml.model": ("string", "gpt2"),
        "tokenizer.ggml.pre": ("string", pre),
        "tokenizer.ggml.tokens": ("string[]", tokens),
        "tokenizer.ggml.token_type": ("int32[]", token_types),
        "tokenizer.ggml.merges": ("string[]", merges),
    }
    for key, token in special_ids.items():
        metadata[f"tokenizer.ggml.{key}"] = ("uint32", tokens.index(token))
    for key, value in flags.items():
        metadata[f"tokenizer.ggml.{key}"] = ("bool", value)
    return metadata


def sentencepiece_metadata():
    vocab, _ = base_fixtures.train_sentencepiece_model()
    tokens = [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]
    token_types, scores = [], []
    for index, token in enumerate(tokens):
        if token == "<unk>":
            token_types.append(2)
        elif token in ("<s>", "</s>"):
            token_types.append(3)
        elif token.startswith("<0x") and len(token) == 6:
            token_types.append(6)
        else:
            token_types.append(1)
        scores.append(0.0 if token_types[-1] != 1 else float(-index))
    return {
        "tokenizer.ggml.model": ("string", "llama"),
        "tokenizer.ggml.tokens": ("string[]", tokens),
        "tokenizer.ggml.scores": ("float32[]", scores),
        "tokenizer.ggml.token_type": ("int32[]", token_types),
        "tokenizer.ggml.bos_token_id": ("uint32", 1),
        "tokenizer.ggml.eos_token_id": ("uint32", 2),
        "tokenizer.ggml.unknown_token_id": ("uint32", 0),
    }


def write_gguf(metadata, path):
    writer = gguf.GGUFWriter(str(path), "llama")
    for key, (kind, value) in metadata.items():
        if kind == "string":
            writer.add_string(key, value)
        elif kind == "bool":
            writer.add_bool(key, value)
        elif kind == "uint32":
            writer.add_uint32(key, value)
        elif kind == "string[]":
            writer.add_array(key, value)
        elif kind == "int32[]":
            writer.add_array(key, [int(v) for v in value])
        elif kind == "float32[]":
            writer.add_array(key, [float(v) for v in value])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def cases(tokenizer, reference=None):
    backend = tokenizer.backend_tokenizer
    result = []
    for text in TEST_STRINGS:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        with_special = tokenizer(text, add_special_tokens=True)["input_ids"]
        case = {"text": text, "ids": ids, "ids_with_special_tokens": with_special,
                "decoded": backend.decode(ids, skip_special_tokens=False)}
        if reference is not None and reference.encode(text).ids != ids:
            case["reference_ids"] = reference.encode(text).ids
        result.append(case)
    return result


def smollm2_reference(tokenizer):
    """The same vocabulary with SmolLM2's own tokenizer.json pre-tokenizer."""
    reference = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    reference.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    return reference


def load_gguf_tokenizer(path):
    return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)


def write_json(name, value):
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    (OUTPUT_DIRECTORY / name).write_text(text + "\n", encoding="utf-8")


def synthetic_fixtures():
    chatml = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    specs = {
        "gpt2-llama-bpe": byte_level_metadata(
            "llama-bpe", ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"], ["<think>", "</think>"],
            {"bos_token_id": "<|begin_of_text|>", "eos_token_id": "<|eot_id|>"}, {"add_bos_token": True}),
        "gpt2-qwen2": byte_level_metadata(
            "qwen2", chatml, [], {"eos_token_id": "<|im_end|>", "padding_token_id": "<|endoftext|>"}, {}),
        "gpt2-gpt-2": byte_level_metadata(
            "gpt-2", chatml, [], {"bos_token_id": "<|endoftext|>", "eos_token_id": "<|endoftext|>"},
            {"add_bos_token": False, "add_eos_token": True}),
        "llama-spm": sentencepiece_metadata(),
    }
    with tempfile.TemporaryDirectory() as folder:
        for name, metadata in specs.items():
            path = Path(folder) / f"{name}.gguf"
            write_gguf(metadata, path)
            tokenizer = load_gguf_tokenizer(path)
            write_json(f"{name}.json", {
                "metadata": {key: {"type": kind, "value": value} for key, (kind, value) in metadata.items()},
                "cases": cases(tokenizer),
            })


def real_model_fixture():
    if not REAL_MODEL.exists():
        print(f"skipping the SmolLM2 fixtures: {REAL_MODEL} is absent (run Scripts/fetch-smollm2)", file=sys.stderr)
        return None
    tokenizer = load_gguf_tokenizer(REAL_MODEL)
    write_json("smollm2-135m-instruct.json",
               {"model": REAL_MODEL.name, "cases": cases(tokenizer, smollm2_reference(tokenizer))})
    return tokenizer.chat_template


def chat_template_fixture(smollm2_template):
    templates = {
        "smollm2": smollm2_template or SMOLLM2_TEMPLATE,
        "qwen2": QWEN2_TEMPLATE,
        "llama3": LLAMA3_TEMPLATE,
        "llama2": LLAMA2_TEMPLATE,
        "mistral-v0.1": MISTRAL_V01_TEMPLATE,
        "mistral-v0.3": MISTRAL_V03_TEMPLATE,
        "qwen2.5": QWEN25_TEMPLATE,
        "llama3.2": LLAMA32_TEMPLATE,
    }
    # Any tokenizer can render any template; the special tokens are passed explicitly.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tokenizer.gguf"
        write_gguf(sentencepiece_metadata(), path)
        tokenizer = load_gguf_tokenizer(path)
        entries = []
        for name, template in templates.items():
            bos, eos = SPECIAL_TOKENS[name]
            for conversation_name, messages in CONVERSATIONS.items():
                for add_generation_prompt in (True, False):
                    entry = {"template": name, "conversation": conversation_name,
                             "add_generation_prompt": add_generation_prompt, "bos_token": bos, "eos_token": eos}
                    try:
                        entry["rendered"] = tokenizer.apply_chat_template(
                            messages, chat_template=template, tokenize=False,
                            add_generation_prompt=add_generation_prompt, bos_token=bos, eos_token=eos,
                            date_string="26 Jul 2024")
                    except Exception as error:  # raise_exception in the template
                        entry["error"] = str(error)
                    entries.append(entry)
        snippets = []
        for snippet in SNIPPETS:
            entry = {"template": snippet}
            try:
                entry["rendered"] = tokenizer.apply_chat_template(
                    CONVERSATIONS["multi-turn"], chat_template=snippet, tokenize=False,
                    add_generation_prompt=True, bos_token="<s>", eos_token="</s>")
            except Exception as error:
                entry["error"] = f"{type(error).__name__}: {error}"
            snippets.append(entry)
    write_json("chat-templates.json", {"templates": templates, "conversations": CONVERSATIONS, "cases": entries,
                                       "snippets": snippets})


def main():
    synthetic_fixtures()
    chat_template_fixture(real_model_fixture())


if __name__ == "__main__":
    main()
