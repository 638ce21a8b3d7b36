#!/usr/bin/env python3
"""bench/bleu_parity/make_data.py: writes the hypothesis/reference files of the BLEU parity
check (bench/bleu_parity.py) into this directory. Everything is generated here from a seeded
generator (no outside data): English and Chinese sentences with numbers, mixed punctuation,
HTML entities, URLs, curly quotes, dashes, full-width forms and other Unicode; hypotheses are
the references with perturbations (word or character drops, swaps, substitutions, changed
numbers). Several pairs have 2 or 3 references. Run it again to regenerate the same files:
    python3 bench/bleu_parity/make_data.py
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
R = random.Random(20261123)

EN_SUBJ = ["The committee", "A small team", "Dr. Smith", "Our users", "The model", "Everyone", "The city council",
           "My neighbour's dog", "The U.S. office", "A 3-year-old"]
EN_VERB = ["approved", "rejected", "reviewed", "didn't like", "re-wrote", "bought", "tested", "can't find", "shipped",
           "measured"]
EN_OBJ = ["the new budget", "a 1,234.56-dollar plan", "version 2.0.1", "the \"final\" draft", "3.5% of the data",
          "the (very) old report", "items #4-7", "the R&D proposal", "an e-mail to ops@example.com",
          "the page at https://example.org/a?b=1&c=2", "50 km/h limits", "the 10:30 meeting"]
EN_TAIL = [".", "!", "?", "...", " today.", ", again.", " — twice.", " in 2020-2021.", "; nobody knew why.",
           " (see p. 12).", ": it was fine.", " at 9:00am.", " ‘quietly’.", " “as planned”."]
EN_EXTRA = ["&quot;quoted&quot;", "&amp;", "&lt;tag&gt;", "<skipped>", "it's", "O'Neil", "$5", "€10", "-3",
            "+4", "1,000,000", "0.5", "x86-64", "{braces}", "[brackets]", "a|b", "~tilde", "`tick`", "^caret",
            "back\\slash", "50%", "café", "naïve", "Zürich", "emoji 🙂", "tab\there", "NBSP\u00a0here",
            "dash\u2013range", "ellipsis\u2026", "em\u2014dash"]

ZH_SUBJ = ["我们", "这个模型", "研究人员", "小明", "北京市政府", "这家公司", "老师", "用户", "张教授", "他们"]
ZH_VERB = ["发布了", "测试了", "讨论了", "完成了", "改进了", "购买了", "拒绝了", "分析了", "翻译了", "记录了"]
ZH_OBJ = ["新的预算", "第3版报告", "1,234.56元的计划", "“最终”草案", "百分之3.5的数据", "（旧的）文件", "GPT-2模型",
          "2023年的统计", "一份email", "https://example.cn/页面", "50公里/小时的限速", "R&D项目"]
ZH_TAIL = ["。", "！", "？", "……", "，效果很好。", "；原因不明。", "：结果还不错。", "——两次。", "、再次。", "（见第12页）。"]
ZH_EXTRA = ["ＡＢＣ全角", "１２３", "《红楼梦》", "〈注〉", "【重要】", "「引号」", "·", "～", "㊣", "㎡", "㐀扩展A",
            "𠀀扩展B", "表情🙂", "中文English混合", "3.14", "-5度", "12:30", "☆星", "→箭头", "≈约等于", "№1",
            "全角空格\u3000这里", "ｈｔｔｐ", "￥100"]


def en_sentence():
    words = [R.choice(EN_SUBJ), R.choice(EN_VERB), R.choice(EN_OBJ)]
    for _ in range(R.randint(0, 2)):
        words.insert(R.randint(1, len(words)), R.choice(EN_EXTRA))
    return " ".join(words) + R.choice(EN_TAIL)


def zh_sentence():
    parts = [R.choice(ZH_SUBJ), R.choice(ZH_VERB), R.choice(ZH_OBJ)]
    for _ in range(R.randint(0, 2)):
        parts.insert(R.randint(1, len(parts)), R.choice(ZH_EXTRA))
    sep = R.choice(["", "", " "])
    return sep.join(parts) + R.choice(ZH_TAIL)


def perturb_words(s, rate):
    w = s.split(" ")
    out = []
    i = 0
    while i < len(w):
        x = R.random()
        if x < rate:  # drop
            i += 1
            continue
        if x < 2 * rate and i + 1 < len(w):  # swap with the next
            out += [w[i + 1], w[i]]
            i += 2
            continue
        if x < 3 * rate:  # substitute
            out.append(R.choice(["the", "a", "new", "it", "42", "3.0", "—", "\"", "(", ")"]))
        else:
            out.append(w[i])
        i += 1
    if R.random() < rate:
        out.append(R.choice(["indeed.", ", OK", "!!", "&amp; more"]))
    return " ".join(out)


def perturb_chars(s, rate):
    c = list(s)
    out = []
    i = 0
    while i < len(c):
        x = R.random()
        if x < rate:
            i += 1
            continue
        if x < 2 * rate and i + 1 < len(c):
            out += [c[i + 1], c[i]]
            i += 2
            continue
        if x < 3 * rate:
            out.append(R.choice("的了是在和有一个中，。0123"))
        else:
            out.append(c[i])
        i += 1
    return "".join(out)


def write(name, lines):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            assert "\n" not in line and "\r" not in line
            f.write(line + "\n")


def pair(prefix, make, perturb, n, refs, rate):
    base = [make() for _ in range(n)]
    write(f"{prefix}.ref1.txt", base)
    for k in range(2, refs + 1):
        write(f"{prefix}.ref{k}.txt", [perturb(s, rate / 2) if R.random() < 0.7 else make() for s in base])
    write(f"{prefix}.hyp.txt", [perturb(s, rate) for s in base])


def main():
    pair("en_1ref", en_sentence, perturb_words, 300, 1, 0.08)
    pair("en_3ref", en_sentence, perturb_words, 200, 3, 0.15)
    pair("en_short", en_sentence, perturb_words, 40, 2, 0.35)
    pair("zh_1ref", zh_sentence, perturb_chars, 300, 1, 0.05)
    pair("zh_2ref", zh_sentence, perturb_chars, 200, 2, 0.12)
    # mixed English and Chinese lines
    mixed = lambda: en_sentence() if R.random() < 0.5 else zh_sentence()
    mixed_perturb = lambda s, r: perturb_chars(s, r / 2) if R.random() < 0.5 else perturb_words(s, r)
    pair("mixed_2ref", mixed, mixed_perturb, 150, 2, 0.1)


if __name__ == "__main__":
    main()
