// zstd for Kafka record batches, on the runtime's own zstd: kafkajs ships gzip alone and takes other codecs
// as plug-ins. Registered for every client (client.ts), so every role reads batches any producer compressed
// with zstd, whatever KAFKA_COMPRESSION it writes with itself.

import { zstdDecompressSync } from "node:zlib";
import { CompressionCodecs, CompressionTypes } from "kafkajs";

/** Level 1: on the benchmark's packed log events, 3.7× smaller at ~1.4 µs per ~500-byte event (level 3: 3.9×, 1.9 µs). */
const LEVEL = 1;

/**
 * Most bytes one record batch may decompress to. A batch is at most the broker's message.max.bytes (1 MB by
 * default) compressed; logproc's own producer writes at most ~1 MB before compression. A batch that would
 * grow past this (a decompression bomb from another writer of the topic) fails instead of taking the memory.
 */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export const zstdCodec = {
  compress: async (encoder: { buffer: Buffer }): Promise<Buffer> =>
    Bun.zstdCompressSync(encoder.buffer, { level: LEVEL }),
  decompress: async (buffer: Buffer): Promise<Buffer> => {
    try {
      return zstdDecompressSync(buffer, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
    } catch (error) {
      if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
        throw new Error(`a zstd record batch decompresses to more than ${MAX_DECOMPRESSED_BYTES} bytes`);
      throw error;
    }
  },
};

CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec;
