// Dead-letter sending: original bytes to `<topic>.dlq`, the reason and origin in headers, acked by all replicas.

import type { Kafka } from "kafkajs";
import type { KafkaConfig } from "../../../config/load.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { DeadLetter } from "../../../ports/log-bus.ts";
import { chunkBySize, deadLetterMessage, MAX_REQUEST_BYTES } from "./messages.ts";
import { ProducerSlot } from "./producer-slot.ts";
import { dlqTopicOf } from "./topics.ts";

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
   */
  async send(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const failedAt = new Date().toISOString();
    const deadline = Date.now() + Math.max(this.cfg.sendTimeoutMs * 4, 5000);
    const messages = letters.map((l) => deadLetterMessage(l, failedAt));
    for (const chunk of chunkBySize(messages, MAX_REQUEST_BYTES))
      await this.slot.send(
        { topic: dlqTopicOf(this.cfg.topic), acks: -1, timeout: this.cfg.sendTimeoutMs, messages: chunk },
        deadline,
      );
  }
}
