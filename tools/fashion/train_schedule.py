"""Learning-rate schedule and the step/time budget of the training stages."""
import math
import time


def cosine_lr(step, total, base, warmup, final_frac=0.05, progress=None):
    """Linear warmup, then cosine decay to final_frac*base. `progress` (0..1) overrides the
    step-based progress (time-budgeted runs)."""
    if step < warmup:
        return base * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup)) if progress is None else min(1.0, progress)
    return base * (final_frac + (1 - final_frac) * 0.5 * (1 + math.cos(math.pi * p)))


class Budget:
    """Progress = max(step/steps, elapsed/minutes): the run ends at whichever comes first, and the
    learning-rate schedule follows the same progress (so a time-capped run still anneals)."""

    def __init__(self, steps, minutes, start_step=0, elapsed0=0.0):
        self.steps, self.minutes = steps, minutes
        self.t0 = time.time() - elapsed0
        self.start = start_step

    def elapsed(self):
        return time.time() - self.t0

    def progress(self, step):
        p = step / max(1, self.steps)
        if self.minutes:
            p = max(p, self.elapsed() / (60.0 * self.minutes))
        return p
