// The full load test, by hand (not in CI: minutes on lavapipe): 50 concurrent clients, 500 queued
// prompts on the bundled model at 64x64 with few steps, against one `vkflow serve` on 127.0.0.1. Prints
// throughput, POST /prompt and /object_info p50/p95 while the queue is full, and the server's peak RSS;
// fails unless every prompt completes exactly once. --kills N: the soak variant, SIGKILLing the server N
// times mid-prompt (restarted on the same port) and still losing nothing; with kills the POSTs are paced
// (--pace-ms, default clients x 200 ms between a client's POSTs: about 5 prompts/s arrive, so the POSTs
// span most of a run and the kills land among them, not after the last one was accepted).
// usage: node tests/server/npm/load_bench.mjs [--clients 50] [--prompts 500] [--steps 2] [--kills 0]
//          [--pace-ms N] [--bin build/vkflow] [--timeout-s 3600]
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Serve, clients, workDir } from "./serve_proc.mjs";
import { runLoad } from "./load.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const opt = { clients: 50, prompts: 500, steps: 2, kills: 0, "pace-ms": -1, bin: path.join(repo, "build/vkflow"),
  "timeout-s": 3600 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const k = argv[i].replace(/^--/, "");
  if (!(k in opt) || argv[i + 1] === undefined) {
    console.error(`unknown option or missing value: ${argv[i]}\n` + fs.readFileSync(fileURLToPath(import.meta.url), "utf8")
      .split("\n").filter((l) => l.startsWith("// usage") || l.startsWith("//   ")).join("\n"));
    process.exit(2);
  }
  opt[k] = k === "bin" ? argv[i + 1] : Number(argv[i + 1]);
}

if (opt["pace-ms"] < 0) opt["pace-ms"] = opt.kills ? opt.clients * 200 : 0;
const { ws } = clients(repo);
const srv = await new Serve(opt.bin, repo, workDir()).start();
console.log(`load_bench: ${opt.clients} clients, ${opt.prompts} prompts, 64x64, ${opt.steps} steps, ${opt.kills} SIGKILLs, ` +
  `POSTs paced ${opt["pace-ms"]} ms; ` +
  `server pid ${srv.proc.pid} on ${srv.host}`);
try {
  // One prompt first, so model loading and shader warm-up are not in the figures.
  await runLoad(srv, repo, ws, { clients: 1, prompts: 1, steps: opt.steps, tag: "warm", seed0: 1, log: () => {} });
  const f = await runLoad(srv, repo, ws, { clients: opt.clients, prompts: opt.prompts, steps: opt.steps,
    kills: opt.kills, paceMs: opt["pace-ms"], timeoutMs: opt["timeout-s"] * 1000 });
  console.log(JSON.stringify(f));
} catch (e) {
  console.error("FAIL:", e?.stack ?? e);
  console.error("--- vkflow serve stderr (tail) ---\n" + srv.logText().slice(-4000));
  await srv.stop("SIGKILL");
  process.exit(1);
}
await srv.stop();
fs.rmSync(srv.work, { recursive: true, force: true });
console.log("load_bench: every prompt completed exactly once");
process.exit(0);
