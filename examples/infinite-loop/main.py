import time

print("counting for ever...", flush=True)
count = 0
last_report = time.monotonic()
while True:
    count += 1
    if time.monotonic() - last_report >= 1:
        print(f"still counting: {count:,}", flush=True)
        last_report = time.monotonic()
