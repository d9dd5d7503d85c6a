"""Scoring for tools/eval_fashion_model.py with the classifier of tools/train_fashion_classifier.py
(imported as a top-level module: tools/ must be on sys.path, as the entry scripts arrange): the real-data
reference statistics (per-class features, FID floors, diversity) and the metrics of generated images."""
import numpy as np

import train_fashion_classifier as clfmod

from .image_metrics import frechet, mean_pairwise_l2, real_roundtrip
from .prompts import LABELS, prompt_for


def real_reference(clf, n_draws, n_per, rng):
    xte_u8, yte = clfmod.load_fmnist("test")
    xtr_u8, ytr = clfmod.load_fmnist("train")
    xte = real_roundtrip(xte_u8)
    logits, fte = clfmod.predict(clf, clfmod.to_input(xte))
    ref = {"acc_roundtrip": float((logits.argmax(1).numpy() == yte).mean()),
           "acc_plain": clfmod.accuracy(clf, clfmod.to_input(xte_u8), yte), "per_class": []}
    for c in range(10):
        fc = fte.numpy()[yte == c]
        tr_idx = np.flatnonzero(ytr == c)
        fids, divs = [], []
        for _ in range(n_draws):
            pick = rng.choice(tr_idx, n_per, replace=False)
            xs = real_roundtrip(xtr_u8[pick])
            _, fs = clfmod.predict(clf, clfmod.to_input(xs))
            fids.append(frechet(fs.numpy(), fc))
            divs.append(mean_pairwise_l2(xs))
        ref["per_class"].append({"features": fc, "fid_real_floor": float(np.mean(fids)),
                                 "fid_real_floor_std": float(np.std(fids)),
                                 "diversity_real_all": mean_pairwise_l2(xte[yte == c]),
                                 "diversity_real_draws": float(np.mean(divs))})
    ref["features_all"] = fte.numpy()
    # overall floor: 10 x n_per real training images (n_per per class) against the whole test set
    fids = []
    for _ in range(n_draws):
        pick = np.concatenate([rng.choice(np.flatnonzero(ytr == c), n_per, replace=False) for c in range(10)])
        _, fs = clfmod.predict(clf, clfmod.to_input(real_roundtrip(xtr_u8[pick])))
        fids.append(frechet(fs.numpy(), ref["features_all"]))
    ref["fid_all_real_floor"] = float(np.mean(fids))
    return ref


def score(clf, imgs, ref):
    """imgs: {label_index: [N,28,28]} -> metrics dict."""
    per, all_pred, all_y, all_f = [], [], [], []
    for c in range(10):
        x = imgs[c]
        logits, f = clfmod.predict(clf, clfmod.to_input(x))
        pred = logits.argmax(1).numpy()
        rc = ref["per_class"][c]
        div = mean_pairwise_l2(x)
        per.append({"label": LABELS[c], "prompt": prompt_for(LABELS[c]), "n": int(len(x)),
                    "accuracy": float((pred == c).mean()),
                    "predicted_counts": np.bincount(pred, minlength=10).tolist(),
                    "fid": frechet(f.numpy(), rc["features"]), "fid_real_floor": rc["fid_real_floor"],
                    "diversity": div, "diversity_real": rc["diversity_real_all"],
                    "diversity_ratio": div / rc["diversity_real_all"]})
        all_pred.append(pred)
        all_y.append(np.full(len(x), c))
        all_f.append(f.numpy())
    pred, y = np.concatenate(all_pred), np.concatenate(all_y)
    return {"accuracy": float((pred == y).mean()),
            "fid_mean_per_class": float(np.mean([p["fid"] for p in per])),
            "fid_real_floor_mean_per_class": float(np.mean([p["fid_real_floor"] for p in per])),
            "fid_all_classes": frechet(np.concatenate(all_f), ref["features_all"]),
            "fid_all_classes_real_floor": ref["fid_all_real_floor"],
            "diversity_mean": float(np.mean([p["diversity"] for p in per])),
            "diversity_real_mean": float(np.mean([p["diversity_real"] for p in per])),
            "diversity_ratio_mean": float(np.mean([p["diversity_ratio"] for p in per])),
            "per_class": per}
