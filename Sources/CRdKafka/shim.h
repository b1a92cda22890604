#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

// Cast macros are invisible to Swift.
static inline int32_t fruits_kafka_partition_unassigned(void) { return RD_KAFKA_PARTITION_UA; }
