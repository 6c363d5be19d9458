CHUNK = 8 * 1024 * 1024

hoard = []
while True:
    # bytearray touches every page, so the memory is really used, not just reserved.
    hoard.append(bytearray(b"x" * CHUNK))
    print(f"holding {len(hoard) * 8} MiB", flush=True)
