// Scale-out and load, in CI: @saintno/comfyui-sdk's ComfyPool spreads a batch over two local `vkflow serve`
// instances (one per GPU or machine in real use), then a small load run (16 clients, a few dozen prompts,
// load.mjs) twice on one instance: every prompt completes exactly once, and the server's RSS after the
// second round stays within a bound of the first (no growth per prompt). Prints throughput and latencies.
// usage: node pool_test.mjs VKFLOW_BINARY REPO_DIR ; exits non-zero with "FAIL: ..." on the first failure.
import fs from "node:fs";
import { Serve, check, clients, txt2img, withTimeout, workDir } from "./serve_proc.mjs";
import { runLoad } from "./load.mjs";

const [bin, repo] = process.argv.slice(2);
const { saintno, ws } = clients(repo);
const T = 120000;
// Second round vs first: ~4 MiB observed per round (SQLite page cache, allocator); a leak of more than
// about 1 MiB per prompt fails it.
const RSS_GROWTH_LIMIT = 24 << 20;
const servers = [];

async function poolBatch() {
  const { ComfyApi, CallWrapper, ComfyPool, EQueueMode, PromptBuilder } = saintno;
  const apis = servers.map((s, i) => new ComfyApi(s.url, `pool-client-${i}`, { wsTimeout: T }));
  const pool = new ComfyPool(apis, EQueueMode.PICK_ZERO);
  const build = (seed) => new PromptBuilder(txt2img(repo, { steps: 2, prefix: "pool" }), ["seed"], ["images"])
    .setInputNode("seed", "3.inputs.seed").setOutputNode("images", "9").input("seed", seed);
  const job = (seed) => (api, idx) => new Promise((resolve, reject) => {
    new CallWrapper(api, build(seed))
      .onFinished((data, id) => resolve({ idx, id, image: data.images.images[0] }))
      .onFailed((err) => reject(err))
      .run();
  });
  const t0 = performance.now();
  const out = await withTimeout(pool.batch(Array.from({ length: 6 }, (_, i) => job(500 + i))), T, "ComfyPool batch");
  const per = [0, 0];
  for (const r of out) per[r.idx]++;
  console.log(`  ComfyPool: 6 prompts over 2 instances in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
    `(${per[0]} + ${per[1]})`);
  check(out.length === 6 && new Set(out.map((r) => r.id)).size === 6, "ComfyPool: 6 distinct prompts finished");
  check(per[0] > 0 && per[1] > 0, `ComfyPool: both instances took prompts (${per})`);
  for (const r of out) {  // each instance ran (and stored) the prompts it was given
    const h = await servers[r.idx].json(`/history/${r.id}`);
    check(h.body[r.id]?.status?.status_str === "success", `ComfyPool: prompt ${r.id} in instance ${r.idx}'s history`);
    check(fs.existsSync(`${servers[r.idx].work}/output/${r.image.filename}`), `ComfyPool: ${r.image.filename} written`);
  }
  pool.destroy();
}

try {
  for (let i = 0; i < 2; i++) servers.push(await new Serve(bin, repo, workDir()).start());
  await poolBatch();
  const a = await runLoad(servers[0], repo, ws, { clients: 16, prompts: 20, steps: 1, tag: "a" });
  const b = await runLoad(servers[0], repo, ws, { clients: 16, prompts: 20, steps: 1, tag: "b", seed0: 2000 });
  check(b.rss_after - a.rss_after < RSS_GROWTH_LIMIT,
    `server RSS grew ${((b.rss_after - a.rss_after) / 1048576).toFixed(1)} MiB over 20 more prompts`);
} catch (e) {
  console.error("FAIL:", e?.stack ?? e);
  for (const s of servers) console.error("--- vkflow serve stderr ---\n" + s.logText());
  await Promise.all(servers.map((s) => s.stop("SIGKILL")));
  process.exit(1);
}
await Promise.all(servers.map((s) => s.stop()));
for (const s of servers) fs.rmSync(s.work, { recursive: true, force: true });
console.log("pool_test: all checks passed");
process.exit(0);
