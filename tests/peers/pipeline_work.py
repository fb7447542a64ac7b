"""Seed 002's pipeline work, written again in Python from the contract
(proto/services.proto and its comments), so wirebench's checksum check is
tested against an implementation that shares no code with it."""

LABELS = ["sensor-a", "sensor-b", "sensor-c", "sensor-d"]
BASE_TIMESTAMP_MS = 1_704_067_200_000
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def generate(n):
    return [
        {
            "id": i,
            "value": ((i * 7919) % 10_007) / 100.0,
            "timestamp_ms": BASE_TIMESTAMP_MS + i,
            "label": LABELS[i % 4],
        }
        for i in range(1, n + 1)
    ]


def process(records):
    values = [r["value"] for r in records]
    low = min(values) if values else float("inf")
    high = max(values) if values else float("-inf")
    span = high - low
    out = []
    for r in records:
        normalized = (r["value"] - low) / span if span > 0 else 0.0
        weight = 1.0 + (sum(r["label"].encode()) % 5) / 10.0
        out.append(dict(r, normalized=normalized, score=normalized * 100.0 * weight))
    return out


def aggregate(processed):
    import struct

    total = 0.0
    for r in processed:  # plain left-to-right addition, as the contract's
        total += r["score"]
    h = FNV_OFFSET
    for r in processed:
        for byte in struct.pack("<Q", r["id"]) + struct.pack("<d", r["score"]):
            h ^= byte
            h = (h * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    n = len(processed)
    scores = [r["score"] for r in processed]
    return {
        "count": n,
        "sum": total,
        "mean": total / n if n else 0.0,
        "min": min(scores) if n else 0.0,
        "max": max(scores) if n else 0.0,
        "checksum": format(h, "016x"),
    }
