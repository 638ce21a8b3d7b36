#!/usr/bin/env python3
"""bench/make_tokenizer_vectors.py: writes test/data/fixtures/tiktoken_vectors.json, the ids
Python's tiktoken gives for a varied corpus with gpt2, cl100k_base and o200k_base, read offline
from the local tokenizer files (no download). test/data/test_bpe_tokenizer.cpp checks that
BpeTokenizer gives exactly these ids.

    python3 bench/make_tokenizer_vectors.py --tokenizers ../shared/data/tokenizers --data ../shared/data

Each encoding is built twice: with the pat_str of the .meta.json beside the rank file (what
BpeTokenizer::load uses) and with tiktoken's own pat_str (tiktoken_ext.openai_public, what
kPatternCl100k/kPatternO200k copy); the script stops if the two disagree on any text.
Needs: tiktoken (pip). The corpus is assembled here: hand-written texts in many scripts, a few
snippets of the local data files, and seeded random strings of code points from many blocks.
"""
import argparse
import inspect
import json
import os
import random
import re
import sys

import tiktoken
import tiktoken_ext.openai_public as openai_public
from tiktoken.load import data_gym_to_mergeable_bpe_ranks, load_tiktoken_bpe

HANDWRITTEN = [
    "",
    " ",
    "Hello world",
    "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX!",
    "It's what they'll say: we're sure you've seen I'm told he'd LOVE it. IT'S, THEY'LL, WE'RE, YOU'VE, I'M, HE'D.",
    "Contractions in odd case: 's 'S 't 'T 're 'rE 'Re 'RE 've 'Ve 'm 'M 'll 'lL 'Ll 'LL 'd 'D ' s",
    "Numbers: 1,234.56 and 1234567890123 and 007 and 3.14159265358979 and 10^9 and -42 and ½ ¾ ² ³ ٣ ४ 〇",
    "URLs: https://example.com/path/to/page?query=1&x=%20y#frag and mailto:someone@example.org, www.test.co.uk/a/b/c/",
    "Chinese (simplified): 人工智能是计算机科学的一个分支，它企图了解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器。",
    "Chinese (traditional): 床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。",
    "春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。\n\n白日依山盡，黃河入海流。欲窮千里目，更上一層樓。",
    "全角标点：「你好」、『世界』！？（括号）【方括号】《书名》……——～",
    "Japanese: 吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。カタカナもテストします。",
    "Korean: 대한민국의 수도는 서울입니다. 한글은 세종대왕이 창제하였습니다.",
    "Arabic: مرحبا بالعالم. اللغة العربية جميلة جداً، وهي لغة القرآن.",
    "Russian: Съешь же ещё этих мягких французских булок, да выпей чаю. ПРИВЕТ, МИР!",
    "Greek and Hebrew: Γειά σου Κόσμε! שלום עולם! Ελληνικά.",
    "Hindi and Thai: नमस्ते दुनिया। ภาษาไทยเป็นภาษาที่สวยงาม",
    "Emoji: 👋🌍 😀😃😄 👍🏽👍🏿 👨‍👩‍👧‍👦 🏳️‍🌈 🧑🏻‍💻 ❤️ ✨🎉 #️⃣ 🇨🇳🇺🇸",
    "Combining marks: e\u0301 a\u0308 n\u0303 Z\u0351\u0362a\u0315lgo\u035b and Vietnamese: Tiếng Việt có dấu.",
    "Mixed scripts: GPT模型は transformer를 사용합니다 and ещё 中文 mixed with English words 123abc.",
    "Odd whitespace:    four spaces,\ttab,\t\ttwo tabs,  \r\nCRLF\r\n\r\nblank line   \n trailing spaces   ",
    "No-break spaces:\u00a0a\u00a0\u00a0b\u3000c\u3000\u3000d \u2009thin\u2002en\u2003em\u205fmath\u200bzero-width",
    "\n\n\n\nleading newlines and trailing ones\n\n\n",
    "                                         a long run of spaces then text",
    "text then a long run of spaces                                         ",
    "\t\t\t\t\t\t\t\t",
    "   \n   \n   \n",
    "def fib(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\nprint(fib(10))  # 55\n",
    "#include <vector>\n\ntemplate <typename T>\nT sum(const std::vector<T>& v) {\n\tT s{};\n\tfor (const T& x : v) {\n\t\ts += x;\n\t}\n\treturn s;  // (B, T, C)\n}\n",
    "Punctuation runs: !!! ??? ... --- *** ### $$$ %%% &&& ((( ))) [[[ ]]] {{{ }}} <<< >>> /// \\\\\\ ||| ~~~ ```",
    "JSON: {\"key\": [1, 2.5, -3e10, true, null], \"nested\": {\"a\": \"b\"}}",
    "Special tokens as text: <|endoftext|> and <|fim_prefix|>x<|fim_middle|>y<|fim_suffix|> and <|endofprompt|>.",
    "<|endoftext|>",
    "Before<|endoftext|>After <|endoftext|><|endoftext|> end",
    "Broken specials: <|endoftext| <endoftext|> <|ENDOFTEXT|> <||>",
    "A long word: Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft",
    "Repeated: " + "ab" * 300,
    "Repeated letters: " + "a" * 700,
    "Long digits: " + "1234567890" * 30,
    "Base64 blob: " + "QmFzZTY0IGVuY29kZWQgdGV4dCBmb3IgdG9rZW5pemVyIHRlc3RzLg" * 8,
    "天地玄黃宇宙洪荒日月盈昃辰宿列張寒來暑往秋收冬藏閏餘成歲律呂調陽雲騰致雨露結為霜金生麗水玉出崑岡劍號巨闕珠稱夜光"
    "果珍李柰菜重芥薑海鹹河淡鱗潛羽翔龍師火帝鳥官人皇始制文字乃服衣裳推位讓國有虞陶唐弔民伐罪周發殷湯坐朝問道垂拱平章",
    "Line breaks inside numbers and letters: abc\n123\r\ndef\r456\n\r789",
    "Slash and newline (o200k keeps '/' with newlines): a/\nb //\n\nc /\r\n",
    "Apostrophes: don't won't can't it's ’s ’t rock'n'roll 'quoted' ''double''",
    "Upper/lower mixes: McDonald iPhone eBay HTTPServer XMLHttpRequest camelCaseWord ALLCAPS Title Case",
]


def snippets(data_dir):
    """A few pieces of the local data files (a paragraph, a poem, an instruction output)."""
    out = []
    shakespeare = open(os.path.join(data_dir, "pretrain/tinyshakespeare.txt"), encoding="utf-8").read()
    out.append(shakespeare[:700])
    out.append(shakespeare[50000:50600])
    poems = open(os.path.join(data_dir, "pretrain/quan_tang_shi.txt"), encoding="utf-8").read().split("\n\n")
    out.append(poems[100] + "\n")
    out.append(poems[2000] + "\n\n")
    ci = open(os.path.join(data_dir, "pretrain/song_ci.txt"), encoding="utf-8").read().split("\n\n")
    out.append(ci[10])
    alpaca = json.load(open(os.path.join(data_dir, "sft/alpaca_zh_demo.json"), encoding="utf-8"))
    out.append(alpaca[0]["instruction"] + "\n" + alpaca[0]["output"][:500])
    out.append(alpaca[7]["output"][:400])
    return out


BLOCKS = [
    (0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x5FF), (0x600, 0x6FF),
    (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF), (0x2000, 0x206F), (0x2190, 0x23FF), (0x3000, 0x303F),
    (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFF00, 0xFFEF), (0x1F300, 0x1F6FF), (0x1F900, 0x1F9FF),
]
WHITESPACE = ["\r", "\n", "\t", " ", "  ", "\r\n", "\u00a0", "\u3000", "\u2028", "\u0085", "\u200b", "\u180e", "\x0b", "\x0c"]


def random_texts(count, seed=1234):
    """Seeded strings of code points from many blocks, with whitespace and apostrophes mixed in."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        chars = []
        for _ in range(rng.randint(20, 120)):
            r = rng.random()
            if r < 0.2:
                chars.append(rng.choice(WHITESPACE))
            elif r < 0.25:
                chars.append(rng.choice(["'s", "'LL", "'Re", "'", "0", "12345"]))
            else:
                lo, hi = rng.choice(BLOCKS)
                cp = rng.randint(lo, hi)
                if not 0xD800 <= cp < 0xE000:
                    chars.append(chr(cp))
        texts.append("".join(chars))
    return texts


def encodings(tokenizers_dir):
    """name -> (encoding with the meta.json pat_str, encoding with tiktoken's own pat_str)."""
    out = {}
    gpt2 = os.path.join(tokenizers_dir, "gpt2")
    ranks = data_gym_to_mergeable_bpe_ranks(os.path.join(gpt2, "vocab.bpe"), os.path.join(gpt2, "encoder.json"))
    specials = {"<|endoftext|>": 50256}
    pat = openai_public.r50k_pat_str
    out["gpt2"] = [tiktoken.Encoding("gpt2", pat_str=pat, mergeable_ranks=ranks, special_tokens=specials)] * 2
    for name, official_fn in [("cl100k_base", openai_public.cl100k_base), ("o200k_base", openai_public.o200k_base)]:
        ranks = load_tiktoken_bpe(os.path.join(tokenizers_dir, name + ".tiktoken"))
        meta = json.load(open(os.path.join(tokenizers_dir, name + ".meta.json")))
        local = tiktoken.Encoding(name + "_meta", pat_str=meta["pat_str"], mergeable_ranks=ranks,
                                  special_tokens=meta["special_tokens"])
        # tiktoken's own pat_str, read from the constructor's source (calling it would download).
        src = inspect.getsource(official_fn)
        if name == "cl100k_base":
            pat_official = re.search(r'"pat_str": r"""(.*?)"""', src).group(1)
        else:
            pat_official = "|".join(re.findall(r'r"""(.*?)"""', src))
        own = tiktoken.Encoding(name, pat_str=pat_official, mergeable_ranks=ranks, special_tokens=meta["special_tokens"])
        out[name] = [local, own]
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizers", default=os.path.join(here, "../../shared/data/tokenizers"))
    ap.add_argument("--data", default=os.path.join(here, "../../shared/data"))
    ap.add_argument("--out", default=os.path.join(here, "../test/data/fixtures/tiktoken_vectors.json"))
    args = ap.parse_args()

    texts = HANDWRITTEN + snippets(args.data) + random_texts(16)
    cases = []
    for name, (local, own) in encodings(args.tokenizers).items():
        for text in texts:
            ids = local.encode_ordinary(text)
            if own.encode_ordinary(text) != ids:
                sys.exit(f"{name}: the meta.json pat_str and tiktoken's own pat_str disagree on {text!r}")
            cases.append({"encoding": name, "allow_special": False, "text": text, "ids": ids})
            if "<|" in text:
                ids = local.encode(text, allowed_special="all")
                if own.encode(text, allowed_special="all") != ids:
                    sys.exit(f"{name}: the two pat_str disagree with allowed_special on {text!r}")
                cases.append({"encoding": name, "allow_special": True, "text": text, "ids": ids})
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write('{"generator": "bench/make_tokenizer_vectors.py", "tiktoken": "%s", "cases": [\n' % tiktoken.__version__)
        f.write(",\n".join(json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in cases))
        f.write("\n]}\n")
    print(f"wrote {len(cases)} cases ({len(texts)} texts x {len(set(c['encoding'] for c in cases))} encodings, "
          f"{os.path.getsize(args.out)} bytes) to {args.out}")


if __name__ == "__main__":
    main()
