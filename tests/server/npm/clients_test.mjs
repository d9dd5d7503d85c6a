// Real ComfyUI clients from npm (pinned in tools/npm/package-lock.json) against a spawned `vkflow serve`:
// @saintno/comfyui-sdk (PromptBuilder + CallWrapper over the WebSocket, uploadImage, img2img, interrupt,
// history), @stable-canvas/comfyui-client (enqueue over the WebSocket, /view) and comfy-ui-client
// (getImages: queue + WebSocket + /view, uploadImage, history, interrupt, editHistory). Bundled model, 64x64, 3 steps.
// usage: node clients_test.mjs VKFLOW_BINARY REPO_DIR ; exits non-zero with "FAIL: ..." on the first failure.
import fs from "node:fs";
import { Serve, check, clients, img2img, isPng, txt2img, withTimeout, workDir } from "./serve_proc.mjs";

const [bin, repo] = process.argv.slice(2);
const { saintno, stableCanvas, comfyUiClient, ws } = clients(repo);
const work = workDir();
// Step previews on (ComfyUI's default, like ours, is none): the test checks how clients take them.
const srv = await new Serve(bin, repo, work, ["--preview-method", "auto"]).start();
const T = 120000;

async function saintnoSdk() {
  const { ComfyApi, CallWrapper, PromptBuilder } = saintno;
  // wsTimeout: the SDK reconnects (and fails the running CallWrapper) after 10 s without a WebSocket message;
  // ComfyUI sends none while a node runs either, and the first prompt loads the model on lavapipe.
  const api = new ComfyApi(srv.url, "saintno-client", { wsTimeout: T }).init();
  await withTimeout(api.waitForReady(), T, "ComfyApi ready");
  const build = (g) => new PromptBuilder(g, ["seed", "steps"], ["images"])
    .setInputNode("seed", "3.inputs.seed").setInputNode("steps", "3.inputs.steps").setOutputNode("images", "9");
  // The CallWrapper subscribes to a prompt's messages only once POST /prompt has answered, then reads
  // /history before it listens for progress; the first messages of a prompt can arrive before that (the
  // worker starts it at once), so the SDK may miss them and then still finish through `executed`. The test
  // counts progress for the prompt on the ComfyApi itself, subscribed before the POST, so it sees them all.
  const progressOf = () => {
    const seen = new Map();  // prompt_id -> progress events (from any time, also before the POST answers)
    const off = api.on("progress", (ev) => seen.set(ev.detail.prompt_id, (seen.get(ev.detail.prompt_id) ?? 0) + 1));
    return { count: (id) => seen.get(id) ?? 0, off };
  };
  const run = (wf) => withTimeout(new Promise((resolve, reject) => {
    const p = progressOf();
    new CallWrapper(api, wf)
      .onFinished((data, id) => { p.off(); resolve({ data, id, progressed: p.count(id) }); })
      .onFailed((err) => { p.off(); reject(err); })
      .run();
  }), T, "CallWrapper run");

  // txt2img over the WebSocket, the image through /view
  const r = await run(build(txt2img(repo)).input("seed", 11).input("steps", 3));
  check(r.progressed > 0, `saintno: progress events for the prompt (${r.progressed})`);
  const img = r.data.images.images[0];
  check(img.type === "output" && img.filename.startsWith("npm"), `saintno: output ${JSON.stringify(img)}`);
  const png = Buffer.from(await (await api.getImage(img)).arrayBuffer());
  check(isPng(png), "saintno: /view returns a PNG");
  // As in ComfyUI's prompt_worker, the history entry is stored just after execution_success (which ends the
  // CallWrapper): poll for it, bounded.
  let h = null;
  for (let i = 0; i < 150 && !h?.status; i++) {
    h = await api.getHistory(r.id);
    if (!h?.status) await new Promise((res) => setTimeout(res, 100));
  }
  check(h && h.status.status_str === "success" && h.outputs["9"].images[0].filename === img.filename,
    `saintno: history ${JSON.stringify(h?.status)}`);

  // upload + img2img on the uploaded image
  const up = await api.uploadImage(new Blob([png], { type: "image/png" }), "saintno_src.png", { override: true });
  check(up && up.info.filename === "saintno_src.png", `saintno: upload ${JSON.stringify(up)}`);
  check(fs.existsSync(`${work}/input/saintno_src.png`), "saintno: uploaded file in the input dir");
  const r2 = await run(build(img2img(repo, "saintno_src.png")).input("seed", 12).input("steps", 3));
  check(r2.data.images.images.length === 1, "saintno: img2img produced an image");

  // interrupt a long run: the CallWrapper reports the failure, its history entry says interrupted.
  // Interrupt on the long prompt's own first progress event, seen on the ComfyApi (subscribed before the
  // POST): the CallWrapper's onProgress fires only once it has subscribed (see above), which under load
  // came after all 400 steps, so no interrupt was sent and the run finished. POST /interrupt without a
  // prompt_id stops whatever runs, as in ComfyUI, and only this prompt runs here.
  const long = build(txt2img(repo)).input("seed", 13).input("steps", 400);
  let longId = null, sent = false;
  const progressed = new Set();
  const interruptOnce = () => { if (!sent && longId && progressed.has(longId)) { sent = true; api.interrupt(); } };
  const offProgress = api.on("progress", (ev) => { progressed.add(ev.detail.prompt_id); interruptOnce(); });
  const interrupted = withTimeout(new Promise((resolve) => {
    new CallWrapper(api, long)
      .onPending((id) => { longId = id; interruptOnce(); })
      .onFinished(() => resolve("finished"))
      .onFailed((err, id) => resolve({ err, id }))
      .run();
  }), T, "interrupt");
  const ir = await interrupted;
  offProgress();
  // The SDK fails the call with ExecutionInterruptedError on execution_interrupted; had it missed that
  // message too (subscribed late, as above), it finds the prompt gone from /queue without a completed
  // history entry on the next status message and fails it with WentMissingError. Either is a failed call.
  check(sent && ir !== "finished" && ["ExecutionInterruptedError", "WentMissingError"].includes(ir.err?.name),
    `saintno: the interrupted run was reported as ${ir === "finished" ? "finished" : `${ir.err?.name}: ${ir.err?.message}`}` +
    ` (interrupt sent: ${sent})`);
  // The history entry is stored after the execution_interrupted message (as in ComfyUI's prompt_worker),
  // so poll for it, bounded.
  const isInterrupted = (e) => e?.status?.status_str === "error" && e.status.completed === false &&
    e.status.messages.some(([t]) => t === "execution_interrupted");
  let entry = null;
  for (let i = 0; i < 150 && !isInterrupted(entry); i++) {
    entry = await api.getHistory(longId);
    if (!isInterrupted(entry)) await new Promise((res) => setTimeout(res, 200));
  }
  check(isInterrupted(entry), `saintno: history of ${longId} says interrupted (${JSON.stringify(entry?.status ?? null).slice(0, 600)})`);
  api.destroy();
}

async function stableCanvasClient() {
  const { Client } = stableCanvas;
  const client = new Client({ api_host: srv.host, clientId: "stable-canvas-client", WebSocket: ws });
  client.connect();
  const out = await withTimeout(client.enqueue(txt2img(repo, { seed: 21 }), {}), T, "stable-canvas enqueue");
  // enqueue() also collects every binary image frame that arrives while its prompt is the one executing
  // (meant for SaveImageWebsocket) as a "buff" image, so the step previews this server sends count too —
  // how many depends on whether its "executing" listener, subscribed after POST /prompt answers, caught
  // the KSampler's "executing" message. SaveImage's output is the one "url" image; any buff is a PNG preview.
  const urls = out.images.filter((im) => im.type === "url"), buffs = out.images.filter((im) => im.type === "buff");
  check(out.prompt_id && urls.length === 1 && urls.length + buffs.length === out.images.length,
    `stable-canvas: output ${JSON.stringify(out).slice(0, 300)}`);
  check(buffs.every((im) => isPng(im.data)), "stable-canvas: the collected previews are PNGs");
  const buf = await (await fetch(urls[0].data)).arrayBuffer();
  check(isPng(buf), "stable-canvas: image is a PNG");
  // enqueue() resolves on the output node's "executed", which (as in ComfyUI's prompt_worker) comes before
  // the prompt leaves queue_running for the history, so "running" may still be true for a moment: poll, bounded.
  let st = await client.getPromptStatus(out.prompt_id);
  for (let i = 0; i < 100 && !st.done; i++) {
    await new Promise((res) => setTimeout(res, 100));
    st = await client.getPromptStatus(out.prompt_id);
  }
  check(st.done === true, `stable-canvas: prompt status ${JSON.stringify(st)}`);
  const sys = await client.getSystemStats();
  check(sys.devices.length >= 1, "stable-canvas: system_stats devices");
  client.close();
}

async function comfyUiClientLib() {
  const { ComfyUIClient } = comfyUiClient;
  const c = new ComfyUIClient(srv.host, "comfy-ui-client");
  await withTimeout(c.connect(), T, "comfy-ui-client connect");
  const images = await withTimeout(c.getImages(txt2img(repo, { seed: 31 })), T, "comfy-ui-client getImages");
  const blobs = images["9"];
  check(blobs && blobs.length === 1, `comfy-ui-client: images ${JSON.stringify(Object.keys(images))}`);
  const png = Buffer.from(await blobs[0].blob.arrayBuffer());
  check(isPng(png), "comfy-ui-client: /view returns a PNG");
  const up = await c.uploadImage(png, "cuc_src.png", true);
  check(up.name === "cuc_src.png" && up.type === "input", `comfy-ui-client: upload ${JSON.stringify(up)}`);
  const q = await c.queuePrompt(img2img(repo, "cuc_src.png", { seed: 32 }));
  check(q.prompt_id, "comfy-ui-client: queuePrompt");
  let h = {};
  for (let i = 0; i < 600 && !h[q.prompt_id]; i++) {
    h = await c.getHistory(q.prompt_id);
    await new Promise((r) => setTimeout(r, 200));
  }
  check(h[q.prompt_id]?.status?.status_str === "success", "comfy-ui-client: img2img in history");

  // interrupt a long run through the client's interrupt(): once /queue shows it running, POST /interrupt;
  // its history entry then says interrupted (stored after the execution_interrupted message: poll, bounded)
  const long = await c.queuePrompt(txt2img(repo, { seed: 33, steps: 400 }));
  check(long.prompt_id, "comfy-ui-client: queuePrompt (long run)");
  let running = false;
  for (let i = 0; i < 600 && !running; i++) {
    const qs = await c.getQueue();
    running = (qs.queue_running ?? []).some((e) => e[1] === long.prompt_id);
    if (!running) await new Promise((r) => setTimeout(r, 100));
  }
  check(running, "comfy-ui-client: the long run shows in /queue as running");
  // ComfyUI answers POST /interrupt and POST /history with an empty 200, which this client's res.json()
  // rejects (a SyntaxError, against ComfyUI too); the request itself has taken effect, as checked below.
  const emptyOk = (e) => { if (!(e instanceof SyntaxError)) throw e; };
  await c.interrupt().catch(emptyOk);
  const interrupted = (e) => e?.status?.status_str === "error" && e.status.completed === false &&
    e.status.messages.some(([t]) => t === "execution_interrupted");
  let he = null;
  for (let i = 0; i < 600 && !interrupted(he); i++) {
    he = (await c.getHistory(long.prompt_id))[long.prompt_id];
    if (!interrupted(he)) await new Promise((r) => setTimeout(r, 200));
  }
  check(interrupted(he), `comfy-ui-client: history says interrupted (${JSON.stringify(he?.status ?? null).slice(0, 400)})`);
  // and the client's history edit (POST /history delete) removes that entry
  await c.editHistory({ delete: [long.prompt_id] }).catch(emptyOk);
  const gone = await c.getHistory(long.prompt_id);
  check(!gone[long.prompt_id], "comfy-ui-client: editHistory delete removed the entry");
  await c.disconnect();
}

try {
  await saintnoSdk();
  console.log("@saintno/comfyui-sdk: ok");
  await stableCanvasClient();
  console.log("@stable-canvas/comfyui-client: ok");
  await comfyUiClientLib();
  console.log("comfy-ui-client: ok");
} catch (e) {
  console.error("FAIL:", e?.stack ?? e);
  console.error("--- vkflow serve stderr ---\n" + srv.logText());
  await srv.stop("SIGKILL");
  process.exit(1);
}
await srv.stop();
fs.rmSync(work, { recursive: true, force: true });
console.log("clients_test: all checks passed");
process.exit(0);
