// Readiness probe of the local Kafka broker, run by scripts/stack/stack.sh
// with Java's single-file source launcher and the broker's own client jars:
//
//   java -cp "$KAFKA_LIBS/*" GroupProbe.java BOOTSTRAP TIMEOUT_SECONDS [CLIENT_PROPERTIES]
//
// CLIENT_PROPERTIES: a file of client settings (security.protocol, SASL, trust
// store) for the secure stack; empty or absent for a plain-text broker.
//
// A broker answers ApiVersions long before a consumer group can be used: on a
// just-formatted broker, __consumer_offsets does not exist yet and its
// partitions are still loading, so the first commit gets "not coordinator" or
// "coordinator load in progress". The probe does what a worker does: it
// joins a group, commits an offset and reads it back, retrying retriable
// errors until the deadline. Exit 0 when the round trip worked, 1 otherwise
// (with the last error on stderr).
import java.io.FileInputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class GroupProbe {
  // Internal to the stack; the worker never reads it.
  static final String TOPIC = "_imgpipe-stack-probe";
  static final String GROUP = "_imgpipe-stack-probe";
  // Connection settings every client of the probe adds (CLIENT_PROPERTIES).
  static final Properties security = new Properties();

  public static void main(String[] args) throws Exception {
    if (args.length < 2 || args.length > 3) {
      System.err.println("usage: GroupProbe BOOTSTRAP TIMEOUT_SECONDS [CLIENT_PROPERTIES]");
      System.exit(2);
    }
    final String bootstrap = args[0];
    if (args.length == 3 && !args[2].isEmpty()) {
      try (FileInputStream in = new FileInputStream(args[2])) {
        security.load(in);
      }
    }
    final long deadline = System.nanoTime() + Long.parseLong(args[1]) * 1_000_000_000L;
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        ensureTopic(bootstrap);
        roundTrip(bootstrap, deadline);
        System.out.println("group round trip ok");
        return;
      } catch (Exception e) {
        last = e;
        Thread.sleep(250);
      }
    }
    System.err.println("group round trip failed: " + (last == null ? "timed out" : last));
    System.exit(1);
  }

  static void ensureTopic(String bootstrap) throws Exception {
    Properties props = new Properties();
    props.putAll(security);
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
    try (Admin admin = Admin.create(props)) {
      if (admin.listTopics().names().get().contains(TOPIC)) return;
      admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get();
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) throw e;
    }
  }

  // Join the group (subscribe, poll until partitions are assigned), commit
  // the current position and read the commit back.
  static void roundTrip(String bootstrap, long deadline) {
    Properties props = new Properties();
    props.putAll(security);
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(TOPIC));
      while (consumer.assignment().isEmpty()) {
        if (System.nanoTime() > deadline) throw new IllegalStateException("no assignment");
        consumer.poll(Duration.ofMillis(200));
      }
      TopicPartition partition = new TopicPartition(TOPIC, 0);
      long position = consumer.position(partition);
      consumer.commitSync(Map.of(partition, new OffsetAndMetadata(position)));
      Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.of(partition));
      OffsetAndMetadata read = committed.get(partition);
      if (read == null || read.offset() != position) {
        throw new IllegalStateException("committed offset not read back: " + read);
      }
    }
  }
}
