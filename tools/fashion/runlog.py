"""The trainer's log (stdout + an optional log file) and a note of the BLAS library torch uses."""
import time

_LOG = None


def set_log_file(path):
    """Also append every log line to `path` (None: stdout only)."""
    global _LOG
    _LOG = path


def log(msg):
    line = time.strftime("%Y-%m-%d %H:%M:%S") + " " + msg
    print(line, flush=True)
    if _LOG:
        with open(_LOG, "a") as f:
            f.write(line + "\n")


def blas_lib():
    try:
        with open("/proc/self/maps") as f:
            libs = {l.split()[-1] for l in f if "blas" in l}
        return ",".join(sorted(libs)) or "?"
    except OSError:
        return "?"
