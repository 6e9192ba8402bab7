import { describe, expect, test } from "bun:test";
import { type PartitionerArgs, Partitioners } from "kafkajs";
import { murmur2, murmur2Partitioner } from "../../src/adapters/bus/kafka/partitioner.ts";

// kafkajs's own DefaultPartitioner (Java's murmur2 over a 64-bit Long) is the reference: a message must land
// on the partition it did before, so a source's events keep their partition across an upgrade.
const metadata = (n: number, leaderless: number[] = []): PartitionerArgs["partitionMetadata"] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

const randomKey = (rnd: () => number): string => {
  const length = Math.floor(rnd() * 140);
  let s = "";
  for (let i = 0; i < length; i++) {
    const pick = rnd();
    if (pick < 0.7) s += String.fromCharCode(0x20 + Math.floor(rnd() * 95));
    else if (pick < 0.8) s += String.fromCharCode(Math.floor(rnd() * 0x80));
    else if (pick < 0.9) s += String.fromCharCode(0x80 + Math.floor(rnd() * 0x780));
    else if (pick < 0.97) s += String.fromCharCode(0x800 + Math.floor(rnd() * 0xd000));
    else s += String.fromCodePoint(0x10000 + Math.floor(rnd() * 0xfffff));
  }
  return s;
};

const seeded = (seed: number) => () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};

describe("murmur2 partitioner", () => {
  test("places every key where kafkajs's DefaultPartitioner does", () => {
    const reference = Partitioners.DefaultPartitioner();
    const ours = murmur2Partitioner();
    const rnd = seeded(7);
    const keys: (string | Buffer)[] = [
      "",
      "a",
      "ab",
      "abc",
      "abcd",
      "checkout",
      "constructor",
      "ünïcödé",
      "日志",
    ];
    for (let i = 0; i < 3000; i++) keys.push(randomKey(rnd));
    for (let i = 0; i < 200; i++)
      keys.push(Buffer.from(Array.from({ length: i }, () => Math.floor(rnd() * 256))));
    keys.push("x".repeat(500), `${"é".repeat(300)}z`);
    let differing = 0;
    for (const key of keys)
      for (const n of [1, 3, 6, 7, 64, 1000]) {
        const args = { topic: "t", partitionMetadata: metadata(n), message: { key, value: "v" } };
        if (ours(args) !== reference(args)) differing++;
      }
    expect(differing).toBe(0);
  });

  test("matches Kafka's published murmur2 values", () => {
    // From the Java client's UtilsTest.testMurmur2.
    const cases: [string, number][] = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ];
    for (const [key, hash] of cases) expect(murmur2(key)).toBe(hash);
    expect(murmur2(Buffer.from("foobar"))).toBe(-790332482);
  });

  test("an explicit partition wins; keyless messages go round-robin over partitions with a leader", () => {
    const place = murmur2Partitioner();
    const partitionMetadata = metadata(4, [1, 3]);
    expect(place({ topic: "t", partitionMetadata, message: { key: "k", value: "v", partition: 3 } })).toBe(3);
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++)
      seen.add(place({ topic: "t", partitionMetadata, message: { key: null, value: "v" } }));
    expect([...seen].sort()).toEqual([0, 2]);
    const none = metadata(3, [0, 1, 2]);
    const placed = place({ topic: "u", partitionMetadata: none, message: { value: "v" } });
    expect(placed >= 0 && placed < 3).toBe(true);
  });
});
