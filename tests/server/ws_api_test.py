#!/usr/bin/python3
"""vkflow serve driven the way ComfyUI's script_examples/websockets_api_example.py drives ComfyUI:
plain urllib for HTTP, the `websocket` client (python3-websocket) for /ws?clientId=. Also checks path
refusals, upload + img2img, interrupt, history, and persistence across a SIGKILL.
Every wait is bounded; exits 1 with a message on the first failure, 77 (skip) without python3-websocket.
Every server it started is killed however it ends.

usage: ws_api_test.py VKFLOW_BINARY REPO_DIR"""
import atexit, json, os, shutil, signal, struct, subprocess, sys, tempfile, time, urllib.error, urllib.parse
import urllib.request, uuid

try:
    import websocket  # python3-websocket (tools/deps.sh)
except ImportError:
    print("SKIP: the python3 'websocket' module (Debian python3-websocket, tools/deps.sh) is not installed",
          flush=True)
    sys.exit(77)

BIN, REPO = sys.argv[1], sys.argv[2]
WORK = tempfile.mkdtemp(prefix="vkflow-serve-test-")
DEADLINE = time.time() + 240
LIVE = []  # every server process started; killed at exit (a failed check, an exception, a signal)


def kill_all():
    for p in LIVE:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=30)
    shutil.rmtree(WORK, ignore_errors=True)


atexit.register(kill_all)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, lambda s, f: sys.exit(f"FAIL: signal {s}"))


def check(cond, msg):
    if not cond:
        print("FAIL:", msg, flush=True)
        sys.exit(1)  # atexit kills the servers


class Server:
    def __init__(self):
        self.proc = None
        self.port = 0

    def start(self, port=0):
        args = [BIN, "serve", "--port", str(port), "--quiet", "--preview-method", "auto",
                "--data-dir", f"{WORK}/data",
                "--output-dir", f"{WORK}/output", "--input-dir", f"{WORK}/input", "--temp-dir", f"{WORK}/temp",
                "--models-dir", f"{REPO}/models"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
        LIVE.append(self.proc)
        line = self.proc.stdout.readline()
        check("listening on http://" in line, f"server did not start: {line!r}")
        self.port = int(line.split("http://")[1].split()[0].rsplit(":", 1)[1])
        return self

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=60)


def graph(seed=42, steps=3, w=64):
    g = json.load(open(f"{REPO}/graphs/txt2img.json"))
    g["3"]["inputs"].update(seed=seed, steps=steps)
    g["5"]["inputs"].update(width=w, height=w)
    return g


def http(srv, path, body=None, raw=None, headers=None, method=None):
    data = json.dumps(body).encode() if body is not None else raw
    req = urllib.request.Request(srv.url(path), data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def queue_prompt(srv, prompt, client_id):
    # as websockets_api_example.py
    p = {"prompt": prompt, "client_id": client_id}
    req = urllib.request.Request(srv.url("/prompt"), data=json.dumps(p).encode("utf-8"))
    return json.loads(urllib.request.urlopen(req, timeout=30).read())


def wait_done(ws, prompt_id, seen, cached=None):
    while time.time() < DEADLINE:
        out = ws.recv()
        if isinstance(out, str):
            m = json.loads(out)
            seen.append(m["type"])
            if m["type"] == "execution_cached" and cached is not None:
                cached.extend(m["data"]["nodes"])
            if m["type"] == "executing":
                d = m["data"]
                if d["node"] is None and d["prompt_id"] == prompt_id:
                    return
        else:
            check(len(out) > 8 and struct.unpack(">I", out[:4])[0] == 1, "binary frame is a PREVIEW_IMAGE")
            check(struct.unpack(">I", out[4:8])[0] in (1, 2), "preview image format JPEG/PNG")
            seen.append("preview")
    check(False, "timed out waiting for the prompt")


def main():
    srv = Server().start()
    client_id = str(uuid.uuid4())
    ws = websocket.WebSocket()
    ws.connect(f"ws://127.0.0.1:{srv.port}/ws?clientId={client_id}", timeout=120)
    first = json.loads(ws.recv())
    check(first["type"] == "status" and first["data"]["sid"] == client_id, f"status first: {first}")
    check("queue_remaining" in first["data"]["status"]["exec_info"], "status has queue_remaining")

    # txt2img, wait over WS, fetch via /view
    r = queue_prompt(srv, graph(), client_id)
    check(set(r) >= {"prompt_id", "number", "node_errors"}, f"/prompt reply {r}")
    seen = []
    wait_done(ws, r["prompt_id"], seen)
    for t in ("execution_start", "execution_cached", "executing", "progress", "executed", "execution_success"):
        check(t in seen, f"ws message {t} in {seen}")
    check("preview" in seen, "binary preview frames during sampling")
    hist = json.loads(urllib.request.urlopen(srv.url("/history/" + r["prompt_id"]), timeout=30).read())
    entry = hist[r["prompt_id"]]
    check(entry["status"]["status_str"] == "success" and entry["status"]["completed"], "history status")
    images = entry["outputs"]["9"]["images"]
    img = images[0]
    q = urllib.parse.urlencode({"filename": img["filename"], "subfolder": img["subfolder"], "type": img["type"]})
    st, png = http(srv, "/view?" + q)
    check(st == 200 and png[:8] == b"\x89PNG\r\n\x1a\n", "/view returns the PNG")

    # re-queued with a new seed: the loader and text encoders come from the cache
    r2 = queue_prompt(srv, graph(seed=7), client_id)
    seen, cached = [], []
    t0 = time.time()
    wait_done(ws, r2["prompt_id"], seen, cached)
    print(f"second prompt (new seed) took {time.time() - t0:.2f} s", flush=True)
    # ComfyUI lists every cached node in one message: loader, both text encoders, the empty latent
    check(sorted(cached) == ["4", "5", "6", "7"], f"execution_cached nodes {cached}")
    # the same prompt again: nothing runs, every node is listed (before, only the served SaveImage was)
    cached = []
    wait_done(ws, queue_prompt(srv, graph(seed=7), client_id)["prompt_id"], [], cached)
    check(sorted(cached) == ["3", "4", "5", "6", "7", "8", "9"], f"execution_cached on a re-queued prompt {cached}")

    # validation error: ComfyUI's shape, 400
    bad = graph()
    bad["3"]["inputs"]["steps"] = 0
    st, body = http(srv, "/prompt", {"prompt": bad, "client_id": client_id})
    b = json.loads(body)
    check(st == 400 and b["node_errors"]["3"]["errors"][0]["type"] == "value_smaller_than_min", f"400 shape {b}")
    st, body = http(srv, "/prompt", {"client_id": client_id})
    check(st == 400 and json.loads(body)["error"]["type"] == "no_prompt", "no_prompt")

    # path refusals on /view (nothing outside the folders)
    for fn, sub in (("../data/queue.sqlite", ""), ("/etc/passwd", ""), ("x.png", "../.."), ("a%2e%2e", ""),
                    ("x\x00.png", "")):
        st, _ = http(srv, "/view?" + urllib.parse.urlencode({"filename": fn, "subfolder": sub}))
        check(st in (400, 403), f"/view {fn!r} {sub!r} refused, got {st}")

    # upload (multipart) + img2img on the uploaded image
    boundary = "----vkflowtest"
    def form(name, fields, data=None):
        parts = []
        for k, v in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
                     f'Content-Type: image/png\r\n\r\n'.encode() + (png if data is None else data) + b"\r\n")
        return b"".join(parts) + f"--{boundary}--\r\n".encode()
    hdr = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    st, body = http(srv, "/upload/image", raw=form("src.png", {"overwrite": "true"}), headers=hdr)
    check(st == 200 and json.loads(body) == {"name": "src.png", "subfolder": "", "type": "input"}, f"upload {body}")
    st, body = http(srv, "/upload/image", raw=form("src.png", {}), headers=hdr)
    check(st == 200 and json.loads(body)["name"] == "src.png", f"same bytes again -> the existing name {body}")
    st, body = http(srv, "/upload/image", raw=form("src.png", {}, data=png + b"\0"), headers=hdr)
    check(st == 200 and json.loads(body)["name"] == "src (1).png", f"other bytes, no overwrite -> renamed {body}")
    for name, fields in (("../evil.png", {}), ("ok.png", {"subfolder": "../../x"}), ("ok.png", {"subfolder": "/tmp"})):
        st, _ = http(srv, "/upload/image", raw=form(name, fields), headers=hdr)
        check(st in (400, 403), f"upload {name} {fields} refused, got {st}")
    check(not os.path.exists(f"{WORK}/evil.png") and not os.path.exists(f"{WORK}/x"), "nothing written outside")
    i2i = graph(seed=3)
    i2i["10"] = {"class_type": "LoadImage", "inputs": {"image": "src.png"}}
    i2i["11"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}}
    i2i["3"]["inputs"].update(latent_image=["11", 0], denoise=0.6)
    r3 = queue_prompt(srv, i2i, client_id)
    wait_done(ws, r3["prompt_id"], [])
    h3 = json.loads(urllib.request.urlopen(srv.url("/history/" + r3["prompt_id"]), timeout=30).read())
    check(h3[r3["prompt_id"]]["status"]["status_str"] == "success", "img2img succeeded")

    # interrupt a long run
    r4 = queue_prompt(srv, graph(seed=5, steps=400), client_id)
    seen = []
    while "progress" not in seen and time.time() < DEADLINE:
        m = ws.recv()
        if isinstance(m, str):
            seen.append(json.loads(m)["type"])
    st, _ = http(srv, "/interrupt", {})
    check(st == 200, "/interrupt")
    seen = []
    wait_done(ws, r4["prompt_id"], seen)
    check("execution_interrupted" in seen, f"interrupted: {seen}")

    # queue delete / clear, history delete
    hold = queue_prompt(srv, graph(seed=9, steps=400), client_id)
    p1 = queue_prompt(srv, graph(seed=10), client_id)
    p2 = queue_prompt(srv, graph(seed=11), client_id)
    http(srv, "/queue", {"delete": [p1["prompt_id"]]})
    qd = json.loads(http(srv, "/queue")[1])
    ids = [p[1] for p in qd["queue_pending"]]
    check(p1["prompt_id"] not in ids and p2["prompt_id"] in ids, f"queue delete {ids}")

    # SIGKILL mid-prompt: restart, the pending and the interrupted prompt still run; history intact
    before = set(json.loads(http(srv, "/history")[1]))
    srv.kill()
    ws.close()
    srv.start()
    ws = websocket.WebSocket()
    ws.connect(f"ws://127.0.0.1:{srv.port}/ws?clientId={client_id}", timeout=120)
    after = set(json.loads(http(srv, "/history")[1]))
    check(before <= after, "history intact after SIGKILL")
    qd = json.loads(http(srv, "/queue")[1])
    ids = [p[1] for p in qd["queue_running"] + qd["queue_pending"]]
    check(hold["prompt_id"] in ids and p2["prompt_id"] in ids, f"queue restored after SIGKILL: {ids}")
    http(srv, "/interrupt", {"prompt_id": hold["prompt_id"]})
    while time.time() < DEADLINE:
        h = json.loads(http(srv, "/history")[1])
        if p2["prompt_id"] in h:
            break
        http(srv, "/interrupt", {"prompt_id": hold["prompt_id"]})
        time.sleep(0.5)
    check(p2["prompt_id"] in h and h[p2["prompt_id"]]["status"]["status_str"] == "success", "restored prompt ran")
    http(srv, "/history", {"delete": [p2["prompt_id"]]})
    check(p2["prompt_id"] not in json.loads(http(srv, "/history")[1]), "history delete")

    # info routes
    oi = json.loads(http(srv, "/object_info/KSampler")[1])
    check("KSampler" in oi and "required" in oi["KSampler"]["input"], "object_info/KSampler")
    check("vkflow-fashion.safetensors" in json.loads(http(srv, "/models/checkpoints")[1]), "/models/checkpoints")
    check(http(srv, "/models/nope")[0] == 404, "/models/unknown 404")
    check("devices" in json.loads(http(srv, "/system_stats")[1]), "system_stats")
    ws.close()
    srv.kill(signal.SIGTERM)
    print("ws_api_test: all checks passed", flush=True)


main()
