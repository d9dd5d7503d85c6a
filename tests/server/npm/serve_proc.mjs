// Spawns `vkflow serve` on 127.0.0.1 (port 0 = a free one the kernel picks; the server prints it) over
// temp folders, for the npm client tests. Every wait is bounded.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

// A failed check throws, so clients_test.mjs's handler stops the server before exiting.
export function fail(msg) {
  throw new Error(msg);
}
export function check(cond, msg) {
  if (!cond) fail(msg);
}

// The npm clients, resolved from tools/npm/node_modules (installed by tools/deps.sh with `npm ci`).
export function clients(repo) {
  const req = createRequire(path.resolve(repo, "tools/npm/package.json"));
  return {
    saintno: req("@saintno/comfyui-sdk"),
    stableCanvas: req("@stable-canvas/comfyui-client"),
    comfyUiClient: req("comfy-ui-client"),
    ws: req("ws"),  // Node 20 has no global WebSocket; @stable-canvas/comfyui-client takes one in its config
  };
}

export class Serve {
  constructor(bin, repo, work, extra = []) {
    Object.assign(this, { bin, repo, work, extra, port: 0, proc: null });
  }
  // Starts the server (port 0 first time, the same port after a restart) and waits for "listening on".
  start(port = this.port) {
    const w = this.work;
    const args = ["serve", "--port", String(port), "--quiet", "--data-dir", `${w}/data`, "--output-dir",
      `${w}/output`, "--input-dir", `${w}/input`, "--temp-dir", `${w}/temp`, "--models-dir",
      `${this.repo}/models`, ...this.extra];
    // stderr to a file, not inherited: a server left behind must not hold the test runner's pipe open.
    this.log = path.join(w, "serve.log");
    this.proc = spawn(this.bin, args, { stdio: ["ignore", "pipe", fs.openSync(this.log, "a")] });
    Serve.live.add(this.proc);
    this.proc.once("exit", () => Serve.live.delete(this.proc));
    const rl = readline.createInterface({ input: this.proc.stdout });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("vkflow serve did not start in 120 s")), 120000);
      rl.once("line", (line) => {
        clearTimeout(t);
        const m = /listening on http:\/\/([^\s]+)/.exec(line);
        if (!m) return reject(new Error(`vkflow serve did not start: ${line}`));
        this.port = Number(m[1].split(":").pop());
        this.host = `127.0.0.1:${this.port}`;
        this.url = `http://${this.host}`;
        rl.on("line", () => {});
        resolve(this);
      });
      this.proc.once("exit", (code) => reject(new Error(`vkflow serve exited with ${code}`)));
    });
  }
  // The server's stderr so far (printed on failure).
  logText() {
    try { return fs.readFileSync(this.log, "utf8"); } catch { return ""; }
  }
  stop(signal = "SIGTERM") {
    if (!this.proc || this.proc.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.proc.kill("SIGKILL"); }, 30000);
      this.proc.once("exit", () => { clearTimeout(t); resolve(); });
      this.proc.kill(signal);
    });
  }
  async json(route, body) {
    const r = await fetch(this.url + route, body === undefined ? {} :
      { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
    return { status: r.status, body: await r.json() };
  }
}

// Every server still running is killed when this process ends, however it ends (a timeout's SIGTERM too).
Serve.live = new Set();
const killAll = () => { for (const p of Serve.live) try { p.kill("SIGKILL"); } catch {} };
process.on("exit", killAll);
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"])
  process.on(sig, () => { console.error(`FAIL: ${sig} received`); killAll(); process.exit(1); });

export function workDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "vkflow-npm-test-"));
}

// The bundled model's txt2img graph at 64x64 with few steps.
export function txt2img(repo, { seed = 42, steps = 3, prefix = "npm" } = {}) {
  const g = JSON.parse(fs.readFileSync(path.join(repo, "graphs/txt2img.json"), "utf8"));
  Object.assign(g["3"].inputs, { seed, steps });
  Object.assign(g["5"].inputs, { width: 64, height: 64 });
  g["9"].inputs.filename_prefix = prefix;
  return g;
}

export function img2img(repo, image, opts = {}) {
  const g = txt2img(repo, opts);
  g["10"] = { class_type: "LoadImage", inputs: { image } };
  g["11"] = { class_type: "VAEEncode", inputs: { pixels: ["10", 0], vae: ["4", 2] } };
  Object.assign(g["3"].inputs, { latent_image: ["11", 0], denoise: 0.6 });
  return g;
}

export function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`timed out: ${what}`)), ms); })])
    .finally(() => clearTimeout(t));
}

export const isPng = (buf) => Buffer.from(buf).subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
