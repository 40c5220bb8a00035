#!/usr/bin/env python3
"""OpenAI's Python client against `peft serve --http`: lists the models, asks for a completion and a
chat completion, and streams a chat answer, all with the model or adapter named by --model.

    python3 -m venv /tmp/openai && /tmp/openai/bin/pip install openai
    swift run -c release peft serve --http --model Examples/BundledBase --adapter mine=SOME-ADAPTER &
    /tmp/openai/bin/python Examples/openai_client.py --model mine

Not a test dependency: the Swift tests drive the server with AsyncHTTPClient.
"""
import argparse
import os

from openai import OpenAI


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    parser.add_argument("--model", required=True, help="the base model's name or a resident adapter's")
    parser.add_argument("--api-key", default=os.environ.get("PEFT_API_KEY", "none"),
                        help="the server's --api-key (default: $PEFT_API_KEY; any text when it has none)")
    parser.add_argument("--prompt", default="Tell the tone of this review.\nThe soup was cold and the waiter was rude.")
    args = parser.parse_args()
    client = OpenAI(base_url=args.base_url, api_key=args.api_key)

    print("models:", ", ".join(model.id for model in client.models.list()))

    completion = client.completions.create(model=args.model, prompt=args.prompt, max_tokens=8, temperature=0)
    print("completion:", repr(completion.choices[0].text), completion.choices[0].finish_reason, completion.usage)

    messages = [{"role": "user", "content": args.prompt}]
    chat = client.chat.completions.create(model=args.model, messages=messages, max_tokens=8, temperature=0)
    print("chat:", repr(chat.choices[0].message.content), chat.choices[0].finish_reason, chat.usage)

    print("streamed:", end=" ", flush=True)
    stream = client.chat.completions.create(model=args.model, messages=messages, max_tokens=8, temperature=0,
                                            stream=True, stream_options={"include_usage": True})
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="", flush=True)
        if chunk.usage:
            print(f"\n  usage: {chunk.usage.prompt_tokens} prompt tokens, {chunk.usage.completion_tokens} generated")


if __name__ == "__main__":
    main()
