// On the secure stack only (STACK_TLS=1, `make integration-test-secure`):
// MinIO on HTTPS and Kafka on SASL_SSL with SCRAM users, certificates from the
// stack's private CA (scripts/stack/stack.sh). A worker that is given the
// wrong CA, meets an expired certificate or a wrong password says why with a
// reason code, stays not ready and never falls back to plain text; the
// worker's own users (made by `imgpipe setup` as the admins) may do its job
// and nothing else; and no secret appears in anything the worker prints or
// serves.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "integration/stack.h"
#include "kafka/connection.h"
#include "kafka/producer.h"
#include "s3/client.h"
#include "s3/minio_admin.h"
#include "support/process.h"
#include "support/test_images.h"

namespace imgpipe::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing_support::ChildProcess;
using testing_support::read_file;

std::string tls_file(const std::string& name) {
  return required_env("IMGPIPE_STACK_TLS_DIR") + "/" + name;
}

// The body of a GET on the worker's HTTP port ("" when it does not answer).
std::string http_body(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  auto response = client.Get(path.c_str());
  return response ? response->body : "";
}

// A secret-looking value no one else uses.
std::string random_secret(const std::string& prefix) {
  std::random_device random;
  return prefix + std::to_string(random()) + std::to_string(random());
}

// A file only its owner may read, holding `content`.
std::string private_file(const std::string& name, const std::string& content) {
  const std::string path = "/tmp/" + name;
  std::ofstream(path) << content << '\n';
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  return path;
}

// The first line of a secret file.
// `openssl s_server` presenting the stack CA's expired certificate: a real
// TLS server whose certificate chains to the trusted CA but is out of date.
class ExpiredCertificateServer {
 public:
  ExpiredCertificateServer()
      : port_(free_port()),
        process_(
            {"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port_),
             "-cert", tls_file("expired.crt"), "-key", tls_file("expired.key"), "-www", "-quiet"},
            {}, "/tmp/" + unique_name("s_server") + ".log") {
    EXPECT_TRUE(eventually(
        [&] {
          std::string output;
          return testing_support::run_command(
                     {"/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port_)}, {},
                     output) == 0;
        },
        10s));
  }
  int port() const { return port_; }

 private:
  int port_;
  ChildProcess process_;
};

class SecureStack : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = unique_name("raw-tls");
    target_ = unique_name("processed-tls");
    group_ = unique_name("imgpipe-tls");
    port_ = free_port();
    env_ = worker_env(source_, target_, group_, port_);
  }

  // Starts a worker with `changes` to the stack's environment, waits until
  // its HTTP port answers, and returns it. Its output goes to `log`.
  std::unique_ptr<ChildProcess> start_worker(const std::map<std::string, std::string>& changes,
                                             const std::string& log) {
    auto env = env_;
    for (const auto& [name, value] : changes) env[name] = value;
    auto worker =
        std::make_unique<ChildProcess>(std::vector<std::string>{IMGPIPE_BINARY, "run"}, env, log);
    EXPECT_TRUE(eventually([&] { return http_status(port_, "/healthz") == 200; }, 30s))
        << read_file(log);
    return worker;
  }

  // A worker that cannot connect: /readyz stays 503 and names the reason,
  // the log says it with the reason code, and SIGTERM still stops it cleanly.
  void expect_refused(const std::map<std::string, std::string>& changes, const std::string& readyz,
                      const std::string& logged) {
    const std::string log = "/tmp/" + unique_name("worker") + ".log";
    auto worker = start_worker(changes, log);
    EXPECT_TRUE(eventually(
        [&] { return http_body(port_, "/readyz").find(readyz) != std::string::npos; }, 30s))
        << "readyz: " << http_body(port_, "/readyz") << "\n"
        << read_file(log);
    EXPECT_EQ(http_status(port_, "/readyz"), 503);
    EXPECT_TRUE(eventually([&] { return read_file(log).find(logged) != std::string::npos; }, 10s))
        << read_file(log);
    worker->signal(SIGTERM);
    EXPECT_EQ(worker->wait(30s), 0) << read_file(log);
    outputs_.push_back(read_file(log));
  }

  std::string source_, target_, group_;
  int port_ = 0;
  std::map<std::string, std::string> env_;
  std::vector<std::string> outputs_;  // everything the workers printed
};

TEST_F(SecureStack, TheStackServesOnlyTlsAndSasl_on_secure_stack) {
  EXPECT_EQ(required_env("IMGPIPE_S3_ENDPOINT").rfind("https://", 0), 0u);
  EXPECT_EQ(required_env("IMGPIPE_KAFKA_SECURITY_PROTOCOL"), "sasl_ssl");
  // The env file and the password files are for their owner only.
  for (const auto& file : {required_env("IMGPIPE_STACK_DIR") + "/env",
                           required_env("IMGPIPE_KAFKA_SASL_PASSWORD_FILE"),
                           required_env("IMGPIPE_S3_SECRET_KEY_FILE"),
                           required_env("IMGPIPE_SETUP_S3_ADMIN_SECRET_KEY_FILE"),
                           required_env("IMGPIPE_SETUP_KAFKA_ADMIN_PASSWORD_FILE")}) {
    struct stat status {};
    ASSERT_EQ(::stat(file.c_str(), &status), 0) << file;
    EXPECT_EQ(status.st_mode & 077, 0u) << file << " is readable by others";
  }
  // Plain HTTP to MinIO's port gets no S3 answer: the port speaks TLS only.
  auto plain = stack_s3_options();
  plain.endpoint.replace(0, 5, "http");
  s3::Client client(plain);
  EXPECT_FALSE(client.bucket_exists("anything").ok());
  // A plain-text Kafka client never joins.
  auto kafka = stack_kafka();
  kafka.properties = {{"security.protocol", "plaintext"}};
  EXPECT_NE(group_round_trip(kafka, stack_topic(), unique_name("plain")), "");
}

TEST_F(SecureStack, AWrongCaIsTlsFailedForTheStoreAndTheBrokers_on_secure_stack) {
  expect_refused({{"IMGPIPE_S3_CA_FILE", tls_file("other-ca.crt")}}, "s3: tls_failed",
                 R"("error":"tls_failed: curl)");
  expect_refused({{"IMGPIPE_KAFKA_SSL_CA_LOCATION", tls_file("other-ca.crt")}}, "kafka: tls_failed",
                 R"("msg":"cannot connect to Kafka","reason":"tls_failed")");
}

TEST_F(SecureStack, AnExpiredCertificateIsTlsFailed_on_secure_stack) {
  ExpiredCertificateServer server;
  const std::string address = "127.0.0.1:" + std::to_string(server.port());
  expect_refused({{"IMGPIPE_S3_ENDPOINT", "https://" + address}}, "s3: tls_failed",
                 "certificate has expired");
  expect_refused({{"IMGPIPE_KAFKA_BROKERS", address}}, "kafka: tls_failed",
                 "certificate has expired");
}

TEST_F(SecureStack, AWrongSaslPasswordIsAuthenticationFailed_on_secure_stack) {
  const auto wrong = private_file(unique_name("wrong-password"), random_secret("wrong-"));
  expect_refused({{"IMGPIPE_KAFKA_SASL_PASSWORD_FILE", wrong}}, "kafka: authentication_failed",
                 R"("reason":"authentication_failed")");
}

// librdkafka before 2.6.1 cannot log in with SCRAM to Kafka 4 (the stack's
// env file then gives the worker PLAIN over TLS): the worker says so when it
// starts, and the broker's refusal is authentication_failed. A newer one
// logs in with SCRAM-SHA-512.
TEST_F(SecureStack, ScramLogsInOrTheWorkerSaysWhyItCannot_on_secure_stack) {
  const std::map<std::string, std::string> scram = {
      {"IMGPIPE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"}};
  if (kafka::scram_fails_on_kafka4()) {
    expect_refused(scram, "kafka: authentication_failed",
                   "this librdkafka cannot log in with SCRAM to Kafka 4.0 or newer");
    return;
  }
  const std::string log = "/tmp/" + unique_name("scram") + ".log";
  std::string output;
  ASSERT_EQ(testing_support::run_command({IMGPIPE_BINARY, "setup"}, env_, output), 0) << output;
  start_group_at_end(group_);
  auto worker = start_worker(scram, log);
  EXPECT_TRUE(eventually([&] { return http_status(port_, "/readyz") == 200; }, 60s))
      << http_body(port_, "/readyz") << "\n"
      << read_file(log);
  worker->signal(SIGTERM);
  EXPECT_EQ(worker->wait(30s), 0) << read_file(log);
}

template <class T>
void expect_denied(const Result<T>& result, const std::string& what) {
  ASSERT_FALSE(result.ok()) << what << " was allowed";
  EXPECT_EQ(result.error().reason, Reason::access_denied) << what << ": " << result.error().message;
}

// What the worker's Kafka user gets when it produces to `topic` ("" when stored).
std::string produce_as_worker(const std::string& topic) {
  auto producer =
      kafka::Producer::create(kafka::Connection{stack_brokers(), worker_kafka_security()});
  if (!producer) return producer.error().message;
  auto stored = (*producer)->produce(topic, "k", "{}", {}, 10s);
  return stored ? "" : stored.error().message;
}

// `imgpipe setup`, run as the admins, makes the worker's users; with them the
// worker can read its sources, write and delete in its targets, consume its
// group and write dead letters, and is refused everything else.
TEST_F(SecureStack, TheWorkerIdentityMayDoItsJobAndNothingElse_on_secure_stack) {
  std::string output;
  ASSERT_EQ(testing_support::run_command({IMGPIPE_BINARY, "setup"}, env_, output), 0) << output;
  EXPECT_NE(output.find("worker user " + required_env("IMGPIPE_S3_ACCESS_KEY") +
                        ": policy imgpipe-worker (read " + source_ + "; write and delete in " +
                        target_ + "; nothing else)"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("kafka ACL: allow User:imgpipe to read group " + group_), std::string::npos)
      << output;
  EXPECT_NE(output.find("kafka ACL: allow User:minio to write topic " + stack_topic()),
            std::string::npos)
      << output;

  s3::Client admin(stack_s3_options());
  s3::Client worker(worker_s3_options());
  ASSERT_NE(stack_s3_options().access_key, worker_s3_options().access_key);
  const std::string other = unique_name("other");
  ASSERT_TRUE(admin.create_bucket(other).ok());
  s3::PutRequest put;
  put.content_type = "image/jpeg";
  put.body = testing_support::make_image(64, 48, ".jpg");
  ASSERT_TRUE(admin.put_object(source_, "a.jpg", put).ok());
  ASSERT_TRUE(admin.put_object(target_, "old.jpg", put).ok());
  ASSERT_TRUE(admin.put_object(other, "b.jpg", put).ok());

  // The job.
  EXPECT_TRUE(worker.get_object(source_, "a.jpg").ok());
  EXPECT_TRUE(worker.head_object(target_, "old.jpg").ok());
  EXPECT_TRUE(worker.put_object(target_, "new.jpg", put).ok());
  EXPECT_TRUE(worker.delete_object(target_, "old.jpg").ok());
  auto missing = worker.head_object(target_, "never-written.jpg");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason, Reason::object_missing) << "not there, rather than denied";
  EXPECT_EQ(group_round_trip(kafka::Connection{stack_brokers(), worker_kafka_security()},
                             stack_topic(), group_),
            "");
  EXPECT_EQ(produce_as_worker(stack_topic() + ".dlq"), "");

  // Everything else.
  expect_denied(worker.get_object(other, "b.jpg"), "reading another bucket");
  expect_denied(worker.put_object(source_, "x.jpg", put), "writing into the source");
  expect_denied(worker.delete_object(source_, "a.jpg"), "deleting a source");
  expect_denied(worker.delete_object(other, "b.jpg"), "deleting in another bucket");
  expect_denied(worker.list_objects(other, "", ""), "listing another bucket");
  expect_denied(worker.create_bucket(unique_name("new")), "creating a bucket");
  const s3::MinioAdmin as_worker(worker_s3_options());
  expect_denied(as_worker.add_user("intruder", random_secret("intruder-")), "the admin API");
  EXPECT_TRUE(admin.head_object(source_, "a.jpg").ok()) << "the source is still there";
  EXPECT_TRUE(admin.head_object(other, "b.jpg").ok());
  const auto forged = produce_as_worker(stack_topic());
  EXPECT_NE(forged.find("Topic authorization failed"), std::string::npos)
      << "the worker may not forge events: " << forged;
  EXPECT_NE(group_round_trip(kafka::Connection{stack_brokers(), worker_kafka_security()},
                             stack_topic(), unique_name("other-group")),
            "");
}

// Everything a worker prints or serves, through start-up, work, refused
// credentials for S3 and Kafka, shutdown and a crash, is searched for every
// secret it was given.
TEST_F(SecureStack, NoSecretAppearsInAnythingTheWorkerPrintsOrServes_on_secure_stack) {
  const std::vector<std::string> given = {env_or_file("IMGPIPE_KAFKA_SASL_PASSWORD"),
                                          env_or_file("IMGPIPE_S3_SECRET_KEY"),
                                          env_or_file("IMGPIPE_SETUP_S3_ADMIN_SECRET_KEY"),
                                          env_or_file("IMGPIPE_SETUP_KAFKA_ADMIN_PASSWORD")};
  const std::string wrong_s3_secret = random_secret("wrong-s3-");
  const std::string wrong_password = random_secret("wrong-sasl-");
  for (const auto& secret : given) ASSERT_GT(secret.size(), 8u);

  std::string output;
  ASSERT_EQ(testing_support::run_command({IMGPIPE_BINARY, "setup"}, env_, output), 0) << output;
  outputs_.push_back(output);
  ASSERT_EQ(testing_support::run_command({IMGPIPE_BINARY, "config"}, env_, output), 0) << output;
  outputs_.push_back(output);
  start_group_at_end(group_);

  // Normal work: three uploads made into outputs, /metrics and /readyz read.
  const std::string log = "/tmp/" + group_ + ".log";
  auto worker = start_worker({}, log);
  ASSERT_TRUE(eventually([&] { return http_status(port_, "/readyz") == 200; }, 60s))
      << read_file(log);
  s3::Client client(stack_s3_options());
  const std::string photo = testing_support::make_image(1600, 1200, ".jpg");
  for (int i = 0; i < 3; ++i) {
    s3::PutRequest put;
    put.content_type = "image/jpeg";
    put.body = photo;
    ASSERT_TRUE(client.put_object(source_, "photo-" + std::to_string(i) + ".jpg", put).ok());
  }
  EXPECT_TRUE(eventually(
      [&] {
        for (int i = 0; i < 3; ++i) {
          if (!client.head_object(target_, "photo-" + std::to_string(i) + ".jpg").ok())
            return false;
        }
        return true;
      },
      60s))
      << read_file(log);
  outputs_.push_back(http_body(port_, "/metrics"));
  outputs_.push_back(http_body(port_, "/readyz"));
  outputs_.push_back(http_body(port_, "/healthz"));
  worker->signal(SIGTERM);
  EXPECT_EQ(worker->wait(30s), 0);
  outputs_.push_back(read_file(log));

  // Refused credentials, each reported without the secret that was refused.
  expect_refused(
      {{"IMGPIPE_S3_SECRET_KEY_FILE", private_file(group_ + "-wrong-s3", wrong_s3_secret)}},
      "s3: access_denied", R"("error":"access_denied)");
  expect_refused(
      {{"IMGPIPE_KAFKA_SASL_PASSWORD_FILE", private_file(group_ + "-wrong", wrong_password)}},
      "kafka: authentication_failed", R"("reason":"authentication_failed")");

  // A crash: whatever the dying worker prints.
  const std::string crash_log = "/tmp/" + group_ + "-crash.log";
  auto crashing = start_worker({}, crash_log);
  crashing->signal(SIGABRT);
  EXPECT_TRUE(crashing->wait(30s).has_value());
  outputs_.push_back(read_file(crash_log));

  std::size_t bytes = 0;
  for (const auto& text : outputs_) {
    bytes += text.size();
    auto secrets = given;
    secrets.insert(secrets.end(), {wrong_s3_secret, wrong_password});
    for (const auto& secret : secrets) {
      EXPECT_EQ(text.find(secret), std::string::npos) << "a secret in:\n" << text;
    }
  }
  EXPECT_GT(bytes, 10000u) << "the outputs searched hold what the worker said";
}

}  // namespace
}  // namespace imgpipe::integration
