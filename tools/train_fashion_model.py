#!/usr/bin/env python3
"""Train `vkflow-fashion`: a small text-to-image latent diffusion model on Fashion-MNIST, in exactly
the SD1.x architecture family and single-file checkpoint key layout.

Stages (all seeded, CPU, torch 1.13 as shipped by Debian: run with /usr/bin/python3):
  1. VAE      AutoencoderKL (KL-regularised, L1+L2 reconstruction, no GAN) on 64x64 RGB images
  2. latents  encoder mean of every training image; scale_factor = 1 / std(latents)
  3. UNet     text encoder (CLIP layout, own small BPE vocab) + UNet trained jointly with DDPM
              eps-prediction MSE, t ~ U{0..999}, SD1.x scaled-linear betas, 15% empty prompt (CFG)
  4. export   <export-dir>/<name>.safetensors (fp16, position_ids I64, LatentDiffusion buffers),
              <name>.json (config sidecar), <name>.vocab.json, <name>.merges.txt
  5. eval     a small CNN classifier trained on real images scores generated images
              (DPM++ 2M, Karras, 20 steps, cfg 5) -> class accuracy, stored in the json

Data: each 28x28 image is scaled 2x to 56x56 with BILINEAR interpolation (torch
F.interpolate(mode='bilinear', align_corners=False)), centred on a black 64x64 canvas (4 px border),
grey replicated to 3 channels, values mapped to [-1, 1] (black = -1).

Other modes:
  --golden-check DIR      load DIR/ckpt.safetensors (sd1_tiny_a) into these modules, compare with
                          the goldens (text_io, unet_io, unet_debug, vae_decode_io, vae_encode_io)
  --forward-check OUT --checkpoint CK
                          fp32 forward passes of an exported checkpoint on fixed seeded inputs
                          -> OUT.safetensors (input_ids/last_hidden_state, x/timesteps/context/eps,
                          z/image)
  --eval-only --checkpoint CK   rerun stage 5 on an exported checkpoint

Re-run the full training (about 100 min on 2 threads):
  nohup setsid nice -n 10 /usr/bin/python3 tools/train_fashion_model.py --out-dir /work/train_out \
      > /work/train_out/train.log 2>&1 &
Linear layers are ~15x faster with OpenBLAS than with Debian's reference BLAS; to use it without
installing anything system-wide: `apt-get download libopenblas0-openmp && dpkg-deb -x *.deb ob` and run
with LD_LIBRARY_PATH=ob/usr/lib/x86_64-linux-gnu/openblas-openmp (results are the same up to fp rounding).
"""
import os

# OpenMP threads must not spin-wait: the machine is shared with C++ builds, and a spinning 2-thread
# team is several times slower than 1 thread when the other core is busy. Set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion import nets, runlog, st_io  # noqa: E402
from fashion.builtin_eval import evaluate  # noqa: E402
from fashion.checkpoint import export, load_checkpoint, load_into, save_fp32, sidecar_config  # noqa: E402
from fashion.diffusion_training import train_diffusion  # noqa: E402
from fashion.fmnist_data import load_fmnist, preprocess  # noqa: E402
from fashion.latent_rgb_fit import fit_latent_rgb, write_latent_rgb  # noqa: E402
from fashion.model_checks import forward_check, golden_check  # noqa: E402
from fashion.model_config import model_config  # noqa: E402
from fashion.prompts import LABELS, build_tokenizer, prompt_table  # noqa: E402
from fashion.runlog import blas_lib, log  # noqa: E402
from fashion.vae_training import encode_all, train_vae, vae_recon_metrics  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default="/work/train_out", help="work dir: log, fp32 states, caches, samples")
    ap.add_argument("--export-dir", default=os.path.join(REPO, "models", "checkpoints"))
    ap.add_argument("--name", default="vkflow-fashion")
    ap.add_argument("--vae-steps", type=int, default=3000, help="max VAE steps")
    ap.add_argument("--vae-minutes", type=float, default=0, help="time cap for the VAE stage (0: none)")
    ap.add_argument("--vae-batch", type=int, default=32)
    ap.add_argument("--vae-lr", type=float, default=5e-4)
    ap.add_argument("--kl-weight", type=float, default=1e-5)
    ap.add_argument("--unet-steps", type=int, default=6000, help="max UNet steps")
    ap.add_argument("--unet-minutes", type=float, default=0, help="time cap for the UNet stage (0: none)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--unet-lr", type=float, default=5e-4)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--flip", type=int, default=0, help="random horizontal flips of latents (0/1)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit-images", type=int, default=0, help="use only the first N training images")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--save-every-min", type=float, default=10.0)
    ap.add_argument("--resume", type=int, default=1, help="reuse VAE/latents/diffusion state in out-dir")
    ap.add_argument("--clf-epochs", type=int, default=2)
    ap.add_argument("--eval-per-class", type=int, default=40)
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--golden-check", metavar="DIR")
    ap.add_argument("--forward-check", metavar="OUT.safetensors")
    ap.add_argument("--checkpoint", metavar="CK", help="exported checkpoint for --forward-check/--eval-only")
    ap.add_argument("--fit-latent-rgb", action="store_true",
                    help="fit the latent->RGB preview factors of the exported checkpoint into its json sidecar")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    if args.golden_check:
        sys.exit(0 if golden_check(args.golden_check) else 1)
    if args.forward_check:
        ck = args.checkpoint or os.path.join(args.export_dir, f"{args.name}.safetensors")
        forward_check(args.forward_check, ck)
        return

    if args.fit_latent_rgb:
        ck = args.checkpoint or os.path.join(args.export_dir, f"{args.name}.safetensors")
        model, cfg, _ = load_checkpoint(ck)
        write_latent_rgb(ck, cfg, *fit_latent_rgb(model.vae, cfg["scale_factor"]))
        return

    os.makedirs(args.out_dir, exist_ok=True)
    runlog.set_log_file(os.path.join(args.out_dir, "train_log.txt"))
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    T0 = time.time()
    log(f"args {vars(args)}")
    log(f"torch {torch.__version__} threads {torch.get_num_threads()} blas {blas_lib()}")

    imgs, labels = load_fmnist("train", args.limit_images or None)
    data = preprocess(imgs)
    labels_t = torch.from_numpy(labels)
    log(f"data: {data.shape[0]} training images -> {tuple(data.shape[1:])} (grey, bilinear 2x, 4px border)")

    if args.eval_only:
        ck = args.checkpoint or os.path.join(args.export_dir, f"{args.name}.safetensors")
        model, cfg, tok = load_checkpoint(ck)
        res = evaluate(model, tok, cfg["scale_factor"], args, gen, data, labels_t)
        log("eval " + json.dumps({k: v for k, v in res.items()}))
        return

    tok = build_tokenizer()
    cfg = model_config(len(tok))
    model = nets.LatentDiffusion(cfg)
    pc = {"unet": nets.count_params(model.unet), "vae": nets.count_params(model.vae),
          "text_encoder": nets.count_params(model.text)}
    log(f"vocab {len(tok)} merges {len(tok.merges)}; params {pc} total {sum(pc.values())} "
        f"(fp16 ~{sum(pc.values()) * 2 / 1e6:.1f} MB)")
    table = prompt_table()
    prompt_ids = torch.tensor([tok(p) for p in table], dtype=torch.int64)
    for p in table[:3] + table[-4:]:
        log(f"prompt {p!r} -> {tok.tokens(p)}")
    training = {"data": {"dataset": "Fashion-MNIST (Debian package dataset-fashion-mnist)",
                         "train_images": int(data.shape[0]),
                         "preprocess": "28x28 -> 56x56 bilinear (torch F.interpolate align_corners=False), "
                                       "centred on black 64x64 (4 px border), grey replicated to RGB, "
                                       "[0,255] -> [-1,1]",
                         "labels": LABELS,
                         "prompts": "'{label}' (30%), 'a photo of a/an {label}' with the correct article "
                                    "(50%) or the other article (20%); 15% replaced by '' (CFG)"},
                "seed": args.seed, "threads": args.threads}

    # ---- stage 1: VAE
    vae_path = os.path.join(args.out_dir, "vae_fp32.safetensors")
    if args.resume and os.path.exists(vae_path):
        _, meta = load_into(model.vae, vae_path)
        training["vae"] = json.loads(meta["training"])
        log(f"loaded VAE from {vae_path}")
    else:
        training["vae"] = train_vae(model.vae, data, args, gen)
        save_fp32(model.vae, vae_path, meta={"training": json.dumps(training["vae"])})
    model.vae.eval()
    training["vae"]["recon_train1000"] = vae_recon_metrics(model.vae, data)
    log(f"VAE reconstruction (first 1000 train): {training['vae']['recon_train1000']}")

    # ---- stage 2: latents
    lat_path = os.path.join(args.out_dir, "latents.safetensors")
    if args.resume and os.path.exists(lat_path) and os.path.exists(vae_path) and \
            st_io.load(lat_path)[0]["latents"].shape[0] == data.shape[0]:
        t, _ = st_io.load(lat_path)
        lat = torch.from_numpy(t["latents"])
        log(f"loaded latents from {lat_path}")
    else:
        t1 = time.time()
        lat = encode_all(model.vae, data, verbose=True)
        st_io.save(lat_path, {"latents": lat, "labels": labels_t})
        log(f"encoded {lat.shape[0]} latents in {time.time() - t1:.0f}s")
    scale = float(1.0 / lat.std())
    log(f"latents {tuple(lat.shape)} mean {float(lat.mean()):.4f} std {float(lat.std()):.4f} "
        f"-> scale_factor {scale:.6f}")
    cfg["scale_factor"] = scale

    # ---- stage 3: text encoder + UNet
    training["unet"] = train_diffusion(model, lat * scale, labels_t, prompt_ids, args, gen,
                                       os.path.join(args.out_dir, "diffusion_state.safetensors"))

    # ---- stage 4: export (EMA weights)
    cfg_out = sidecar_config(args.name, args.seed, cfg, scale, pc, training)
    factors, bias, resid = fit_latent_rgb(model.vae, scale)
    cfg_out.update(latent_rgb_factors=factors, latent_rgb_factors_bias=bias)
    log(f"latent->RGB preview factors {factors} bias {bias} (rms residual {resid:.4f})")

    training["seconds_train"] = round(time.time() - T0, 1)
    training["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    files = export(model, cfg_out, tok, args.export_dir, args.name,
                   os.path.join(args.out_dir, f"{args.name}_fp32.safetensors"))
    log(f"exported {files}")

    # ---- stage 5: evaluation (then the json is rewritten with the results)
    if not args.skip_eval:
        training["eval"] = evaluate(model, tok, scale, args, gen, data, labels_t)
        training["seconds_total"] = round(time.time() - T0, 1)
        cj = os.path.join(args.export_dir, f".{args.name}.json.part")
        with open(cj, "w") as f:
            json.dump(cfg_out, f, indent=1)
            f.write("\n")
        os.replace(cj, os.path.join(args.export_dir, f"{args.name}.json"))
        log("eval results written to the json sidecar")
    log(f"DONE in {(time.time() - T0) / 60:.1f} min")


if __name__ == "__main__":
    main()
