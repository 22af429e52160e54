/** Kafka's default port, where `weir serve` speaks the Kafka protocol unless told otherwise. */
export const KAFKA_PORT_DEFAULT = 9092
