// A load run against one `vkflow serve` (loopback only, bounded in count and time), shared by
// pool_test.mjs (small, in CI) and load_bench.mjs (the full size, by hand): `clients` concurrent
// clients, each with its own WebSocket (/ws?clientId=) and its share of `prompts` txt2img prompts (new seed
// each, so the loader and text encoders come from the cache). Each prompt carries a client-chosen
// prompt_id, so a POST whose reply was lost (the server killed) is retried without ever queueing it twice:
// a retry of an accepted id gets 400 "prompt_id already used". Completion is read from /history.
// Optionally the server is SIGKILLed `kills` times mid-prompt and restarted on the same port; `paceMs`
// between a client's POSTs keeps prompts arriving across the kills.
import crypto from "node:crypto";
import fs from "node:fs";
import { check, txt2img } from "./serve_proc.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

// Resident and peak resident memory of a process in bytes (Linux /proc).
export function memoryOf(pid) {
  const st = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(st) || [0, 0])[1]) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

const MiB = (b) => (b / 1048576).toFixed(1);

// One POST /prompt, retried while the server is down; resolves with its latency in ms (of the try that
// got an answer), or rejects on an unexpected reply.
async function postPrompt(srv, body, deadline) {
  for (let refused = 0; ; refused++) {
    check(Date.now() < deadline, `POST /prompt ${body.prompt_id}: no answer before the deadline`);
    const t0 = performance.now();
    let r;
    try {
      r = await fetch(srv.url + "/prompt", { method: "POST", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json" }, signal: AbortSignal.timeout(30000) });
    } catch {
      await sleep(100);  // refused or reset: the server is restarting
      continue;
    }
    const ms = performance.now() - t0;
    const j = await r.json().catch(() => ({}));
    if (r.status === 200) {
      check(j.prompt_id === body.prompt_id, `/prompt kept the client's prompt_id (${JSON.stringify(j)})`);
      return { ms, retried: false, refused };
    }
    // a retry of a prompt the killed server had already stored
    if (r.status === 400 && JSON.stringify(j).includes("prompt_id already used")) return { ms, retried: true, refused };
    throw new Error(`POST /prompt ${r.status}: ${JSON.stringify(j).slice(0, 300)}`);
  }
}

async function getJson(srv, route) {
  const r = await fetch(srv.url + route, { signal: AbortSignal.timeout(30000) });
  return r.json();
}

// WebSocket of one client: counts the messages it gets (its own prompts' and the broadcast status), and
// reconnects after a restart.
function openWs(WS, srv, clientId, stats, stopped) {
  const connect = () => {
    if (stopped.v) return;
    const ws = new WS(`ws://${srv.host}/ws?clientId=${clientId}`);
    ws.on("message", (data, binary) => { binary ? stats.binary++ : stats.text++; });
    ws.on("error", () => {});
    ws.on("close", () => { if (!stopped.v) setTimeout(connect, 200); });
    stats.sockets.push(ws);
  };
  connect();
}

// Runs the load; returns the figures. Throws (the caller stops the server) when a check fails.
export async function runLoad(srv, repo, WS, { clients = 16, prompts = 48, steps = 2, kills = 0, tag = "a", seed0 = 1000, paceMs = 0,
  timeoutMs = 120000, log = console.log } = {}) {
  const deadline = Date.now() + timeoutMs;
  const ids = Array.from({ length: prompts }, () => crypto.randomUUID());
  const stats = { text: 0, binary: 0, sockets: [] }, stopped = { v: false };
  for (let c = 0; c < clients; c++) openWs(WS, srv, `load-${c}`, stats, stopped);

  const mem0 = memoryOf(srv.proc.pid);
  const promptMs = [], infoMs = [];
  let retried = 0, refused = 0, done = false, killed = 0, accepted = 0;
  const t0 = performance.now();

  // /object_info/KSampler (a tiny request) timed while the queue is full.
  const probe = (async () => {
    while (!done && Date.now() < deadline) {
      const s = performance.now();
      try {
        await (await fetch(srv.url + "/object_info/KSampler", { signal: AbortSignal.timeout(30000) })).json();
        infoMs.push(performance.now() - s);
      } catch { /* restarting */ }
      await sleep(50);
    }
  })();

  // Soak: SIGKILL mid-prompt at evenly spaced points of the run (of the POSTs when they are paced, else of
  // the completions), restart on the same port.
  const killer = (async () => {
    for (let k = 1; k <= kills; k++) {
      const at = Math.floor((k * prompts) / (kills + 1));
      while (!done && Date.now() < deadline) {
        const h = await getJson(srv, "/history").catch(() => null);
        const q = await getJson(srv, "/queue").catch(() => null);
        const progress = paceMs ? accepted : Object.keys(h || {}).length;
        if (h && q && progress >= at && q.queue_running.length > 0) break;
        await sleep(50);
      }
      if (done) break;
      await srv.stop("SIGKILL");
      killed++;
      log(`  SIGKILL ${killed} with ${accepted}/${prompts} prompts accepted; restarting`);
      await srv.start();
    }
  })();

  // The clients: each posts its share back to back, as fast as the server answers.
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = c; i < prompts; i += clients) {
      const body = { prompt: txt2img(repo, { seed: seed0 + i, steps, prefix: `load${tag}_${i}` }), client_id: `load-${c}`,
        prompt_id: ids[i] };
      const r = await postPrompt(srv, body, deadline);
      promptMs.push(r.ms);
      if (r.retried) retried++;
      refused += r.refused;
      accepted++;
      if (paceMs) await sleep(paceMs);  // spreads the POSTs over the run (the soak kills land among them)
    }
  }));

  // Every prompt completes exactly once (history is keyed by prompt_id; one output file each).
  let hist = {};
  for (;;) {
    hist = await getJson(srv, "/history").catch(() => hist);
    if (ids.every((id) => hist[id]?.status?.completed)) break;
    const failed = ids.filter((id) => hist[id] && hist[id].status?.status_str !== "success");
    check(failed.length === 0, `prompts failed: ${String(JSON.stringify(hist[failed[0]]?.status)).slice(0, 500)}`);
    check(Date.now() < deadline, `only ${ids.filter((id) => hist[id]).length}/${prompts} prompts completed in time`);
    await sleep(100);
  }
  const wall = (performance.now() - t0) / 1000;
  done = true;
  await Promise.all([probe, killer]);
  stopped.v = true;
  for (const ws of stats.sockets) ws.terminate();

  const q = await getJson(srv, "/queue");
  check(q.queue_running.length === 0 && q.queue_pending.length === 0, `queue empty at the end: ${JSON.stringify(q).slice(0, 300)}`);
  const files = fs.readdirSync(`${srv.work}/output`).filter((f) => f.startsWith(`load${tag}_`));
  for (let i = 0; i < prompts; i++) {
    const mine = files.filter((f) => f.startsWith(`load${tag}_${i}_`));
    // A prompt killed after its SaveImage wrote runs again and writes a second file (as ComfyUI would).
    check(kills ? mine.length >= 1 : mine.length === 1, `prompt ${i}: ${mine.length} output files (${mine.join(", ")})`);
    const out = hist[ids[i]].outputs["9"].images;
    check(out.length === 1 && mine.includes(out[0].filename), `prompt ${i}: history names its file`);
  }
  check(kills === 0 || killed === kills, `killed ${killed} of ${kills} times`);
  const mem1 = memoryOf(srv.proc.pid);
  const fig = {
    clients, prompts, steps, kills: killed, retried, refused, wall_s: wall, throughput: prompts / wall,
    prompt_p50: percentile(promptMs, 50), prompt_p95: percentile(promptMs, 95),
    info_p50: percentile(infoMs, 50), info_p95: percentile(infoMs, 95), info_n: infoMs.length,
    rss_before: mem0.rss, rss_after: mem1.rss, peak_rss: mem1.hwm, ws_text: stats.text, ws_binary: stats.binary,
  };
  log(`  ${prompts} prompts from ${clients} clients in ${wall.toFixed(1)} s: ${fig.throughput.toFixed(2)} prompts/s; ` +
    `POST /prompt p50 ${fig.prompt_p50.toFixed(1)} ms p95 ${fig.prompt_p95.toFixed(1)} ms; ` +
    `/object_info/KSampler (queue full, n=${infoMs.length}) p50 ${fig.info_p50.toFixed(1)} ms p95 ${fig.info_p95.toFixed(1)} ms; ` +
    `server RSS ${MiB(mem0.rss)} -> ${MiB(mem1.rss)} MiB, peak ${MiB(mem1.hwm)} MiB` +
    (kills ? ` (since the last restart); ${killed} SIGKILLs, ${refused} POSTs refused while down and retried, ` +
      `${retried} answered "already used"` : "") +
    `; WebSocket messages ${stats.text} text, ${stats.binary} binary`);
  return fig;
}
