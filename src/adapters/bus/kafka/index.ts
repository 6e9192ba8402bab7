// The Kafka bus adapter: what roles construct (publisher, subscriber) and the topic helper they share.

export { createKafkaClient } from "./client.ts";
export type { ReplayFrom, ReplayProgress } from "./offsets.ts";
export { createKafkaPublisher, KafkaPublisher, type KafkaPublisherDeps } from "./publisher.ts";
export { createKafkaSubscriber, KafkaSubscriber, type KafkaSubscriberOptions } from "./subscriber.ts";
export { dlqTopicOf, ensureTopics, type TopicSettings } from "./topics.ts";
