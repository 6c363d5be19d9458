import time

TOTAL_SECONDS = 20
INTERVAL = 0.1

start = time.monotonic()
for line in range(1, int(TOTAL_SECONDS / INTERVAL) + 1):
    elapsed = time.monotonic() - start
    print(f"line {line:3d} at {elapsed:5.2f} s", flush=True)
    # Sleep to the next tick, so that the pace does not drift.
    time.sleep(max(0.0, start + line * INTERVAL - time.monotonic()))
print("finished")
