"""Writes the tokenizer parity fixtures used by `TokenizerParityTests.swift`.

Trains small BPE tokenizers with the Hugging Face `tokenizers` library on a deterministic text
generated below, then, for each tokenizer, writes `<name>/tokenizer.json` and `<name>/expected.json`:
the ids `tokenizers` produces for many test strings (with and without special tokens) and the text it
decodes them back to. The Swift tests read only these committed files.

Run from anywhere (tested with tokenizers 0.23.3):

    python make_tokenizer_fixtures.py

Fixtures:
    gpt2-bytelevel        GPT-2 style: ByteLevel pre-tokenizer (GPT-2 regex), ByteLevel decoder and
                          post-processor; merges written in the legacy "a b" string form; added tokens
                          with lstrip / rstrip / single_word.
    gpt2-prefix-space     the same model with an NFKC normalizer, add_prefix_space, a
                          RobertaProcessing post-processor and merges as ["a", "b"] pairs.
    llama3                LLaMA-3 style: Split (LLaMA-3 regex) + ByteLevel(use_regex=false),
                          ignore_merges, TemplateProcessing adding <|begin_of_text|>.
    llama2                LLaMA-2 style SentencePiece BPE: byte_fallback, <unk>/<s>/</s>,
                          Prepend("▁") + Replace(" ", "▁") normalizer, decoder
                          Replace + ByteFallback + Fuse + Strip, TemplateProcessing adding <s>.
    llama2-metaspace      the same model with a Metaspace pre-tokenizer and decoder
                          (prepend_scheme "first", split false), as newer conversions write it.
    llama2-metaspace-split  Metaspace with prepend_scheme "always" and split true.
    sentencepiece-unk     the same model without byte fallback: unknown characters become <unk>,
                          fused when consecutive.
"""

import json
import random
from pathlib import Path

from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers,
                        pre_tokenizers, processors, trainers)

OUTPUT_DIRECTORY = Path(__file__).resolve().parent

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def training_lines():
    """A few hundred deterministic lines of varied English, accents, CJK, emoji, code and numbers."""
    rng = random.Random(20240607)
    subjects = ["The cat", "A small model", "My friend", "The old library", "Our team", "She", "He",
                "The weather", "This tokenizer", "Every student", "The river", "A quick brown fox"]
    verbs = ["reads", "writes", "jumps over", "learns", "remembers", "builds", "finds", "likes",
             "runs through", "explains", "counts", "paints"]
    objects = ["the lazy dog", "a long book", "the mountains", "new words", "every morning",
               "the answer", "simple programs", "the city lights", "three apples", "our garden"]
    endings = [".", "!", "?", "...", ";", ",", " :)"]
    contractions = ["It's", "I'm", "we'll", "they've", "you'd", "don't", "can't", "She's", "isn't"]
    accented = ["café", "naïve", "résumé", "Zürich", "façade", "jalapeño", "Ångström", "São Paulo",
                "crème brûlée", "Straße", "coöperate", "piñata", "Dvořák", "Łódź"]
    cjk = ["東京", "日本語", "中文", "北京", "한국어", "こんにちは", "世界"]
    emoji = ["🙂", "👍", "🚀", "❤️", "🎉", "👨‍👩‍👧"]
    code = ["def f(x):\n    return x * 2", "for i in range(10): print(i)", "if (a && b) { c++; }",
            "<div class=\"box\">text</div>", "https://example.com/path?q=1", "user@example.org"]
    lines = []
    for _ in range(600):
        kind = rng.randrange(10)
        if kind < 5:
            line = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}{rng.choice(endings)}"
        elif kind == 5:
            line = f"{rng.choice(contractions)} {rng.choice(objects)}, {rng.choice(contractions).lower()} it?"
        elif kind == 6:
            line = f"{rng.choice(accented)} and {rng.choice(accented)} in {rng.choice(cjk)} {rng.choice(emoji)}"
        elif kind == 7:
            line = f"In {rng.randrange(1900, 2030)} we counted {rng.randrange(0, 10**7):,} items ({rng.random():.3f})"
        elif kind == 8:
            line = rng.choice(code)
        else:
            line = "  ".join(rng.choice(objects) for _ in range(3)) + "\t" + rng.choice(emoji)
        lines.append(line)
    return lines


TEST_STRINGS = [
    "", " ", "  ", "\n", "Hello world", " Hello world", "Hello world ", "Hello   world",
    "   leading spaces", "trailing spaces   ", "\t tab\tseparated\t", "line one\nline two\n\nline four",
    "\r\n windows line\r\nend\r\n", "mixed \t\n whitespace   \n\n  runs", "   \n   ", " " * 40 + "x",
    "It's, I'm, we'll, they've, you'd, she's, DON'T, I'M", "'s 'S 'ſ", "rock'n'roll isn't",
    "café naïve résumé Zürich façade jalapeño Ångström", "e\u0301 versus é", "ﬁne ① Å ｆｕｌｌ",
    "Straße Dvořák Łódź", "東京は日本の首都です。", "中文测试 and English", "한국어 텍스트", "こんにちは世界",
    "emoji 🙂 👍🏽 🚀🚀", "family 👨‍👩‍👧‍👦 and flag 🇯🇵", "❤️ heart", "🙂🙂🙂🙂",
    "1234567890", "3.14159 and 2,718,281", "year 2024, 1e10, 007", "١٢٣ Arabic digits ²³ ⅷ",
    "9" * 41, "Hello, world! How are you? (fine) [ok] {x: 1}", "a--b...c!!!?", "<html><body>text</body></html>",
    "def f(x):\n    return x * 2\n", "https://example.com/path?q=1&r=2", "email: someone@example.org",
    "THE QUICK BROWN FOX jumps over the lazy dog", "a" * 300, "ab" * 150, "word " * 40,
    "\x00\x01\x7f control", "zero\u200bwidth", "nbsp\u00a0here", "ideographic\u3000space",
    "\u2028 line separator \u0085 next line \u000b vertical tab",
    "▁ literal meta symbol ▁▁", "<0x41> literal byte token text",
    "<|endoftext|>", "Hello<|endoftext|>world", " <|endoftext|> spaced <|endoftext|>",
    "<s>", "</s>", "<unk>", "<s>Hello</s>", "text <s> more</s>", " <s> leading space",
    "<|begin_of_text|>Hi<|eot_id|>", "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>",
    "<|reserved_special_token_2|>", " <mask> masked", "x<mask>y", "a  <mask>", "[SEP]  after [SEP]",
    "userName said userNames to the userName", "in Tokyo and Tokyo", "the zyzzyva flies over zyzzyvas",
]


# Strings whose every id prefix is decoded too: prefixes can end inside a multi-byte character,
# which pins down how incomplete UTF-8 is rendered (what streaming generation sees).
PREFIX_DECODE_STRINGS = ["café naïve", "emoji 🙂 👍🏽", "東京は日本", "family 👨‍👩‍👧 🇯🇵"]


def byte_level_trainer(vocab_size, special_tokens):
    return trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens,
                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)


def train_gpt2():
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=True)
    tokenizer.train_from_iterator(training_lines(), byte_level_trainer(700, ["<|endoftext|>"]))
    tokenizer.add_special_tokens([
        AddedToken("<mask>", lstrip=True, special=True, normalized=False),
        AddedToken("[SEP]", rstrip=True, special=True, normalized=False),
    ])
    tokenizer.add_tokens([AddedToken("userName", single_word=True, normalized=True, special=False)])
    return json.loads(tokenizer.to_str())


def gpt2_with_string_merges(spec):
    spec["model"]["merges"] = [" ".join(pair) for pair in spec["model"]["merges"]]
    return spec


def gpt2_with_prefix_space(spec):
    spec = json.loads(json.dumps(spec))
    end_of_text = next(token["id"] for token in spec["added_tokens"] if token["content"] == "<|endoftext|>")
    spec["normalizer"] = {"type": "NFKC"}
    spec["pre_tokenizer"]["add_prefix_space"] = True
    spec["post_processor"] = {
        "type": "RobertaProcessing", "sep": ["<|endoftext|>", end_of_text],
        "cls": ["<|endoftext|>", end_of_text], "trim_offsets": True, "add_prefix_space": True,
    }
    return spec


def train_llama3():
    tokenizer = Tokenizer(models.BPE(ignore_merges=True))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(training_lines(), byte_level_trainer(900, []))
    spec = json.loads(tokenizer.to_str())
    vocab = spec["model"]["vocab"]
    # Whole words in the vocabulary without the merges that would build them: only ignore_merges
    # turns them into one token.
    for word in ["Ġzyzzyva", "Ġflies"]:
        vocab.setdefault(word, len(vocab))
    special_names = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                     "<|reserved_special_token_1|>", "<|start_header_id|>", "<|end_header_id|>",
                     "<|reserved_special_token_2|>", "<|eot_id|>"]
    spec["added_tokens"] = [
        {"id": len(vocab) + index, "content": name, "single_word": False, "lstrip": False,
         "rstrip": False, "normalized": False, "special": True}
        for index, name in enumerate(special_names)
    ]
    begin = spec["added_tokens"][0]["id"]
    spec["post_processor"] = {
        "type": "Sequence",
        "processors": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                        {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                      {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}},
                      {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [begin],
                                                       "tokens": ["<|begin_of_text|>"]}}},
        ],
    }
    return spec


def train_sentencepiece_model():
    """Vocabulary and merges of a SentencePiece-style BPE: <unk> <s> </s>, then <0x00>..<0xFF>."""
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=["<unk>", "<s>", "</s>"],
                                  limit_alphabet=90, show_progress=False)
    tokenizer.train_from_iterator(training_lines(), trainer)
    trained = json.loads(tokenizer.to_str())["model"]
    special_and_bytes = ["<unk>", "<s>", "</s>"] + [f"<0x{byte:02X}>" for byte in range(256)]
    vocab = {token: index for index, token in enumerate(special_and_bytes)}
    for token, _ in sorted(trained["vocab"].items(), key=lambda item: item[1]):
        vocab.setdefault(token, len(vocab))
    return vocab, trained["merges"]


def sentencepiece_spec(vocab, merges, byte_fallback):
    added = [{"id": index, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for index, content in enumerate(["<unk>", "<s>", "</s>"])]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": byte_fallback,
                  "ignore_merges": False, "vocab": vocab, "merges": merges},
    }


def llama2_with_normalized_added_token(spec):
    tokenizer = Tokenizer.from_str(json.dumps(spec))
    tokenizer.add_tokens([AddedToken("Tokyo", normalized=True, special=False)])
    return json.loads(tokenizer.to_str())


def with_metaspace(spec, prepend_scheme, split):
    spec = json.loads(json.dumps(spec))
    metaspace = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": prepend_scheme, "split": split}
    spec["normalizer"] = None
    spec["pre_tokenizer"] = metaspace
    spec["decoder"] = metaspace
    return spec


def write_fixture(name, spec):
    tokenizer = Tokenizer.from_str(json.dumps(spec))
    directory = OUTPUT_DIRECTORY / name
    directory.mkdir(parents=True, exist_ok=True)
    # The spec as written, not re-serialized, so that the legacy "a b" merge form survives.
    (directory / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1) + "\n")
    cases = []
    for text in TEST_STRINGS:
        with_special = tokenizer.encode(text, add_special_tokens=True).ids
        cases.append({
            "text": text,
            "ids": tokenizer.encode(text, add_special_tokens=False).ids,
            "ids_with_special_tokens": with_special,
            "decoded": tokenizer.decode(with_special, skip_special_tokens=False),
            "decoded_skipping_special_tokens": tokenizer.decode(with_special, skip_special_tokens=True),
        })
    prefix_decodes = []
    for text in PREFIX_DECODE_STRINGS:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        prefix_decodes.append({"ids": ids, "decoded_prefixes": [
            tokenizer.decode(ids[:length], skip_special_tokens=False) for length in range(1, len(ids) + 1)]})
    # One entry per line keeps the file short and its diffs readable.
    case_lines = ",\n  ".join(json.dumps(case, ensure_ascii=False) for case in cases)
    prefix_lines = ",\n  ".join(json.dumps(entry, ensure_ascii=False) for entry in prefix_decodes)
    vocabulary_size = tokenizer.get_vocab_size(with_added_tokens=True)
    (directory / "expected.json").write_text(
        f'{{"vocabulary_size": {vocabulary_size}, "cases": [\n  {case_lines}\n],\n'
        f'"prefix_decodes": [\n  {prefix_lines}\n]}}\n')


def main():
    gpt2 = train_gpt2()
    write_fixture("gpt2-prefix-space", gpt2_with_prefix_space(gpt2))
    write_fixture("gpt2-bytelevel", gpt2_with_string_merges(gpt2))
    write_fixture("llama3", train_llama3())
    vocab, merges = train_sentencepiece_model()
    llama2 = llama2_with_normalized_added_token(sentencepiece_spec(vocab, merges, byte_fallback=True))
    write_fixture("llama2", llama2)
    write_fixture("llama2-metaspace", with_metaspace(llama2, "first", split=False))
    write_fixture("llama2-metaspace-split", with_metaspace(llama2, "always", split=True))
    write_fixture("sentencepiece-unk", sentencepiece_spec(vocab, merges, byte_fallback=False))


if __name__ == "__main__":
    main()
