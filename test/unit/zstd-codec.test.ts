// The zstd codec kafkajs uses for record batches: registered by the Kafka client, round trips, and a batch
// that would decompress past the bound fails without taking the memory.

import { describe, expect, test } from "bun:test";
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import "../../src/adapters/bus/kafka/client.ts";
import { MAX_DECOMPRESSED_BYTES, zstdCodec } from "../../src/adapters/bus/kafka/zstd.ts";

describe("zstd codec", () => {
  test("is the codec kafkajs uses for zstd once the Kafka client is loaded", () => {
    expect(CompressionCodecs[CompressionTypes.ZSTD]()).toBe(zstdCodec);
  });

  test("round trips a batch and makes log text smaller", async () => {
    const text = Buffer.from(
      Array.from(
        { length: 500 },
        (_, i) => `{"v":1,"id":"e-${i}","message":"GET /api/orders/${i} 200"}`,
      ).join(","),
    );
    const compressed = await zstdCodec.compress({ buffer: text });
    expect(compressed.length).toBeLessThan(text.length / 3);
    expect(Buffer.from(await zstdCodec.decompress(compressed)).equals(text)).toBe(true);
  });

  test("a batch decompressing past the bound is refused, and the memory stays bounded", async () => {
    // 64 frames of 16 MB of zeros each: a few kilobytes that would become 1 GB.
    const frame = Bun.zstdCompressSync(Buffer.alloc(16 * 1024 * 1024), { level: 1 });
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => frame));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    Bun.gc(true);
    const before = process.memoryUsage().rss;
    const error = await zstdCodec.decompress(bomb).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe(
      `a zstd record batch decompresses to more than ${MAX_DECOMPRESSED_BYTES} bytes`,
    );
    expect(process.memoryUsage().rss - before).toBeLessThan(4 * MAX_DECOMPRESSED_BYTES);
  });
});
