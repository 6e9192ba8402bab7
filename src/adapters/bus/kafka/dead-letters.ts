// Dead-letter sending: original bytes to `<topic>.dlq`, the reason and origin in headers, acked by all replicas.

import type { Kafka, Message } from "kafkajs";
import type { KafkaConfig } from "../../../config/load.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { DeadLetter } from "../../../ports/log-bus.ts";
import { chunkBySize, deadLetterMessage, MAX_REQUEST_BYTES } from "./messages.ts";
import { ProducerSlot } from "./producer-slot.ts";
import { DeadlineError } from "./timing.ts";
import { dlqTopicOf } from "./topics.ts";

/** Tries per chunk, the first included: the slot replaces a producer whose send failed, so a retry gets a fresh one. */
const SEND_ATTEMPTS = 3;

export class DeadLetterSender {
  private readonly slot: ProducerSlot;

  constructor(
    kafka: Kafka,
    private readonly cfg: KafkaConfig,
    logger: Logger,
    prepare: () => Promise<void>,
  ) {
    this.slot = new ProducerSlot({ kafka, logger: logger.child({ producer: "dlq" }), prepare });
  }

  start(): void {
    this.slot.start();
  }

  stop(): Promise<void> {
    return this.slot.stop();
  }

  /**
   * Everything goes to the dlq of the topic this subscriber reads (letter.topic is kept in x-original-topic).
   * Bounded: a dead-letter topic that cannot be written fails the batch, which then comes again.
   * A send refused outright (e.g. OUT_OF_ORDER_SEQUENCE_NUMBER from the broker on a fresh topic) is tried again
   * on the slot's next producer within the same deadline; a letter written twice is only a duplicate letter.
   */
  async send(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const failedAt = new Date().toISOString();
    const deadline = Date.now() + Math.max(this.cfg.sendTimeoutMs * 4, 5000);
    const messages = letters.map((l) => deadLetterMessage(l, failedAt));
    for (const chunk of chunkBySize(messages, MAX_REQUEST_BYTES)) await this.sendChunk(chunk, deadline);
  }

  private async sendChunk(messages: Message[], deadline: number): Promise<void> {
    const record = { topic: dlqTopicOf(this.cfg.topic), acks: -1, timeout: this.cfg.sendTimeoutMs, messages };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.slot.send(record, deadline);
        return;
      } catch (error) {
        if (error instanceof DeadlineError || attempt >= SEND_ATTEMPTS || Date.now() >= deadline) throw error;
      }
    }
  }
}
