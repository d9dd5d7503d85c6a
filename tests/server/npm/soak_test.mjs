// The soak variant, in CI at a small size: 4 clients post 16 prompts (paced, so some arrive while the
// server is down) to one `vkflow serve`, which is SIGKILLed twice mid-prompt and restarted on the same
// port. Every prompt still completes exactly once: the queue and history persist in SQLite, the prompt
// running at each kill is re-queued, and a POST whose reply was lost is retried under its prompt_id.
// usage: node soak_test.mjs VKFLOW_BINARY REPO_DIR ; exits non-zero with "FAIL: ..." on the first failure.
import fs from "node:fs";
import { Serve, check, clients, workDir } from "./serve_proc.mjs";
import { runLoad } from "./load.mjs";

const [bin, repo] = process.argv.slice(2);
const { ws } = clients(repo);
const srv = new Serve(bin, repo, workDir());
try {
  await srv.start();
  const f = await runLoad(srv, repo, ws, { clients: 4, prompts: 16, steps: 1, kills: 2, paceMs: 1200 });
  check(f.kills === 2, "two SIGKILLs");
} catch (e) {
  console.error("FAIL:", e?.stack ?? e);
  console.error("--- vkflow serve stderr ---\n" + srv.logText());
  await srv.stop("SIGKILL");
  process.exit(1);
}
await srv.stop();
fs.rmSync(srv.work, { recursive: true, force: true });
console.log("soak_test: all checks passed");
process.exit(0);
