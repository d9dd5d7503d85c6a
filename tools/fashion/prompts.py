"""Fashion-MNIST labels, the training prompts, the model's own BPE tokenizer built from them, and the
per-sample prompt choice of the diffusion training (incl. the classifier-free-guidance drop)."""
import torch

from . import bpe

LABELS = ["t-shirt/top", "trouser", "pullover", "dress", "coat",
          "sandal", "shirt", "sneaker", "bag", "ankle boot"]
CFG_DROP = 0.15


def article(label):
    return "an" if label[0] in "aeiou" else "a"


def prompt_for(label):
    return f"a photo of {article(label)} {label}"


def prompt_table():
    """All training prompts: per label [label, 'a photo of a X', 'a photo of an X'], then ''."""
    table = []
    for lab in LABELS:
        table += [lab, f"a photo of a {lab}", f"a photo of an {lab}"]
    table.append("")
    return table


def build_tokenizer():
    texts = prompt_table()
    tok = bpe.Tokenizer(bpe.learn_merges([t for t in texts if t]))
    assert len(tok.encoder) == len(tok.vocab_list), "duplicate vocab entries"
    for t in texts:  # every prompt word is a single token
        words = bpe.split_pieces(bpe.clean(t))
        assert len(tok.encode(t)) == len(words), (t, tok.tokens(t))
    return tok


def sample_prompt_index(labels, gen):
    """Per sample: 15% empty; else 30% bare label, 50% 'a photo of <correct article> X',
    20% 'a photo of <other article> X'."""
    n = labels.shape[0]
    u = torch.rand(n, generator=gen)
    v = torch.rand(n, generator=gen)
    correct_an = torch.tensor([article(l) == "an" for l in LABELS])[labels]
    tmpl = torch.where(v < 0.3, torch.zeros_like(labels),
                       torch.where(v < 0.8, 1 + correct_an.long(), 2 - correct_an.long()))
    idx = labels * 3 + tmpl
    return torch.where(u < CFG_DROP, torch.full_like(idx, 3 * len(LABELS)), idx)
