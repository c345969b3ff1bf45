#include "backfill/checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace imgpipe::backfill {
namespace {

namespace fs = std::filesystem;

class CheckpointFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("imgpipe-checkpoint-" + std::to_string(getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

Checkpoint sample() {
  Checkpoint checkpoint;
  checkpoint.next = {1, "1/Ab+c=="};
  checkpoint.counts.listed = 2000;
  checkpoint.counts.matched = 1990;
  checkpoint.counts.of(ObjectClass::missing) = 40;
  checkpoint.counts.of(ObjectClass::up_to_date) = 1950;
  checkpoint.counts.enqueued = 40;
  checkpoint.counts.head_requests = 3980;
  return checkpoint;
}

TEST_F(CheckpointFileTest, SavesInAFolderItCreatesAndLoadsTheSameBack) {
  CheckpointFile file(dir_ / "sub" / "backfill-x.json", "fingerprint-1");
  auto none = file.load();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(file.save(sample()));
  EXPECT_FALSE(fs::exists(dir_ / "sub" / "backfill-x.json.tmp"));
  auto loaded = file.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  const Checkpoint& back = **loaded;
  EXPECT_EQ(back.fingerprint, "fingerprint-1");
  EXPECT_EQ(back.next.source_index, 1u);
  EXPECT_EQ(back.next.continuation_token, "1/Ab+c==");
  EXPECT_EQ(back.counts.listed, 2000u);
  EXPECT_EQ(back.counts.of(ObjectClass::missing), 40u);
  EXPECT_EQ(back.counts.of(ObjectClass::up_to_date), 1950u);
  EXPECT_EQ(back.counts.head_requests, 3980u);
  ASSERT_TRUE(file.remove());
  EXPECT_FALSE(fs::exists(file.path()));
}

TEST_F(CheckpointFileTest, RefusesTheCheckpointOfAnotherScanOrABrokenFile) {
  CheckpointFile first(dir_ / "c.json", "fingerprint-1");
  ASSERT_TRUE(first.save(sample()));
  auto other = CheckpointFile(dir_ / "c.json", "fingerprint-2").load();
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().reason, Reason::invalid_config);
  EXPECT_NE(other.error().message.find("--restart"), std::string::npos);

  std::ofstream(dir_ / "c.json") << "{\"version\": 1, \"fingerprint\": ";
  auto broken = first.load();
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().reason, Reason::invalid_config);
}

TEST(CheckpointJson, OnlyVersionOneIsRead) {
  EXPECT_FALSE(parse_checkpoint("{\"version\": 2}"));
  EXPECT_FALSE(parse_checkpoint("[]"));
  EXPECT_TRUE(parse_checkpoint(checkpoint_json(sample())));
}

}  // namespace
}  // namespace imgpipe::backfill
