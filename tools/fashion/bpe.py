"""CLIP BPE tokenizer with openai `SimpleTokenizer` semantics, and a small vocab builder.

The tokenizer reproduces openai/CLIP clip/simple_tokenizer.py (ftfy.fix_text is treated as the
identity): html.unescape twice, strip, whitespace runs -> one space, lower(), the split regex
  <\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+
(implemented by hand with unicodedata because Debian's python has no `regex` module), UTF-8 bytes
-> byte_to_unicode alphabet, '</w>' on the last symbol, merges applied lowest rank first.

Vocab files are in Hugging Face CLIPTokenizer format: vocab.json (token -> id) and merges.txt
(first line '#version: 0.2', then one 'a b' merge per line, rank = line order).
The id order is the openai one: 256 byte chars, the same with '</w>', one id per merge (its
result), then '<|startoftext|>', '<|endoftext|>'.
"""
import collections
import gzip
import html
import json
import re
import unicodedata

SOT = "<|startoftext|>"
EOT = "<|endoftext|>"
_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def _is_letter(c):
    return unicodedata.category(c).startswith("L")


def _is_number(c):
    return unicodedata.category(c).startswith("N")


def split_pieces(text):
    """re.findall of the CLIP pattern (IGNORECASE) on already-cleaned, lower-cased text."""
    out = []
    i, n = 0, len(text)
    low = text.lower()
    while i < n:
        c = text[i]
        matched = None
        for lit in (SOT, EOT) + _CONTRACTIONS:
            if low.startswith(lit, i):
                matched = text[i:i + len(lit)]
                break
        if matched is None:
            if _is_letter(c):
                j = i + 1
                while j < n and _is_letter(text[j]):
                    j += 1
                matched = text[i:j]
            elif _is_number(c):
                matched = c
            elif not c.isspace():
                j = i + 1
                while j < n and not (text[j].isspace() or _is_letter(text[j]) or _is_number(text[j])):
                    j += 1
                matched = text[i:j]
        if matched is None:
            i += 1
        else:
            out.append(matched)
            i += len(matched)
    return out


def clean(text):
    text = html.unescape(html.unescape(text)).strip()
    text = re.sub(r"\s+", " ", text).strip()
    return text.lower()


def _pairs(word):
    return set(zip(word[:-1], word[1:]))


class Tokenizer:
    def __init__(self, merges):
        """merges: list of (a, b) tuples in rank order."""
        self.byte_encoder = bytes_to_unicode()
        vocab = list(self.byte_encoder.values())
        vocab = vocab + [v + "</w>" for v in vocab]
        for m in merges:
            vocab.append("".join(m))
        vocab.extend([SOT, EOT])
        self.vocab_list = vocab
        self.encoder = {}
        for i, v in enumerate(vocab):
            self.encoder[v] = i  # a duplicate string maps to its last id, like openai's dict(zip())
        self.merges = list(merges)
        self.bpe_ranks = {tuple(m): i for i, m in enumerate(merges)}
        self.cache = {SOT: SOT, EOT: EOT}
        self.bos_id = self.encoder[SOT]
        self.eos_id = self.encoder[EOT]

    # ---- construction / files -------------------------------------------------------------
    @classmethod
    def from_openai_gz(cls, path):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = f.read().split("\n")
        lines = lines[1:49152 - 256 - 2 + 1]
        return cls([tuple(l.split()) for l in lines])

    @classmethod
    def from_hf_files(cls, vocab_json, merges_txt):
        with open(merges_txt, encoding="utf-8") as f:
            lines = [l for l in f.read().split("\n") if l]
        if lines and lines[0].startswith("#version"):
            lines = lines[1:]
        tok = cls([tuple(l.split(" ")) for l in lines])
        with open(vocab_json, encoding="utf-8") as f:
            vocab = json.load(f)
        if vocab != tok.encoder:
            raise ValueError("vocab.json does not match the vocab derived from merges.txt")
        return tok

    def write_hf_files(self, vocab_json, merges_txt):
        with open(vocab_json, "w", encoding="utf-8") as f:
            json.dump(self.encoder, f, ensure_ascii=False, indent=0)
            f.write("\n")
        with open(merges_txt, "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            for a, b in self.merges:
                f.write(f"{a} {b}\n")

    def __len__(self):
        return len(self.vocab_list)

    # ---- encoding ---------------------------------------------------------------------------
    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = _pairs(word)
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = _pairs(word)
        out = " ".join(word)
        self.cache[token] = out
        return out

    def tokens(self, text):
        out = []
        for piece in split_pieces(clean(text)):
            piece = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            out.extend(self.bpe(piece).split(" "))
        return out

    def encode(self, text):
        return [self.encoder[t] for t in self.tokens(text)]

    def __call__(self, text, context_length=77):
        """SD1.x convention: [bos] + ids + [eos], truncated to context_length keeping the final eos,
        padded with eos."""
        ids = [self.bos_id] + self.encode(text)[:context_length - 2] + [self.eos_id]
        return ids + [self.eos_id] * (context_length - len(ids))


def learn_merges(texts):
    """Byte-level BPE learning on the words of `texts` (count-weighted), run until every word is a
    single symbol. Ties: highest count, then lexicographically smallest pair (deterministic)."""
    be = bytes_to_unicode()
    counts = collections.Counter()
    for t in texts:
        for piece in split_pieces(clean(t)):
            if piece in (SOT, EOT):
                continue
            s = "".join(be[b] for b in piece.encode("utf-8"))
            counts[tuple(s[:-1]) + (s[-1] + "</w>",)] += 1
    words = dict(counts)
    merges = []
    while True:
        pc = collections.Counter()
        for w, c in words.items():
            for p in zip(w[:-1], w[1:]):
                pc[p] += c
        if not pc:
            break
        best = min(pc.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        new = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + c
        words = new
    return merges
