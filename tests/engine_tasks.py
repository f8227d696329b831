"""Task functions for the engine tests, in a module light enough for a spawned worker to import."""
import os


def exit_on_negative(v):
    """``v``; a negative ``v`` ends the worker process at once (like a crash in a native library)."""
    if v < 0:
        os._exit(7)
    return v
