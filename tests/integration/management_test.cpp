// Managing sessions at runtime through the real broker and workers.
#include <gtest/gtest.h>

#include <fstream>

#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/socket_io.hpp"
#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

class ManagementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<Cluster>();
    cluster_->startWorker("w1");
    cluster_->startWorker("w2");
    client_ = cluster_->client();
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(ManagementTest, StartsListsCountsDescribesAndTerminatesSessions) {
  SessionOptions options;
  options.model = "mock-large";
  auto ack = client_->start("alpha", options);
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  EXPECT_EQ(ack->generation, 1u);
  ASSERT_TRUE(client_->start("beta").ok());

  auto duplicate = client_->start("alpha");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, ErrorCode::kAlreadyExists);

  auto count = client_->count();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->count, 2u);

  auto list = client_->list();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "alpha");
  EXPECT_EQ((*list)[1].name, "beta");

  ASSERT_TRUE(client_->query("alpha", "hi").ok());
  auto info = client_->info("alpha");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->name, "alpha");
  EXPECT_EQ(info->state, "idle");
  EXPECT_EQ(info->config.model, "mock-large");
  EXPECT_GT(info->pid, 0);
  EXPECT_FALSE(info->session_id.empty());
  EXPECT_EQ(info->turns, 1u);
  EXPECT_EQ(info->worker, ack->worker);
  const pid_t cli_pid = static_cast<pid_t>(info->pid);
  EXPECT_TRUE(processExists(cli_pid));

  auto terminated = client_->terminate("alpha");
  ASSERT_TRUE(terminated.ok()) << terminated.error().message;
  EXPECT_EQ(terminated->state, "stopped");
  EXPECT_TRUE(waitFor([&] { return !processExists(cli_pid); }));
  auto gone = client_->info("alpha");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  auto after = client_->count();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->count, 1u);
  EXPECT_EQ(client_->terminate("alpha").error().code, ErrorCode::kNotFound);
}

TEST_F(ManagementTest, RefusesBadOptionsNamingThem) {
  SessionOptions options;
  options.permission_mode = "whenever";
  auto ack = client_->start("bad", options);
  ASSERT_FALSE(ack.ok());
  EXPECT_EQ(ack.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(ack.error().message.find("permission_mode"), std::string::npos);

  SessionOptions missing_dir;
  missing_dir.cwd = cluster_->dir() + "/does-not-exist";
  auto refused = client_->start("nowhere", missing_dir);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(refused.error().message.find("cwd"), std::string::npos);
  EXPECT_EQ(client_->info("nowhere").error().code, ErrorCode::kNotFound);

  auto bad_name = client_->start("has space");
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.error().code, ErrorCode::kBadRequest);
}

TEST_F(ManagementTest, StatusShowsWorkersAndPingAnswers) {
  ASSERT_TRUE(client_->start("one").ok());
  auto status = client_->status();
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->workers.size(), 2u);
  EXPECT_EQ(status->sessions, 1u);
  uint32_t placed = 0;
  for (const auto& w : status->workers) placed += w.sessions;
  EXPECT_EQ(placed, 1u);
  auto ping = client_->ping();
  ASSERT_TRUE(ping.ok());
  EXPECT_FALSE(ping->version.empty());
}

// Raw frames from a hand-made DEALER: malformed messages get an error reply, and the broker
// keeps serving well-formed ones.
TEST_F(ManagementTest, AnswersMalformedFramesWithErrorsAndKeepsServing) {
  zmq::context_t context;
  zmq::socket_t raw(context, zmq::socket_type::dealer);
  applyCommonOptions(raw);
  raw.connect(cluster_->frontend());
  auto receiveError = [&]() -> std::optional<msg::ErrorReply> {
    zmq::pollitem_t item{raw.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, kEventDeadline) <= 0) return std::nullopt;
    std::vector<zmq::message_t> frames;
    bool oversized = false;
    if (!receiveMessage(raw, frames, oversized)) return std::nullopt;
    auto envelope = decodeFrames(frames);
    if (!envelope || envelope->type != MessageType::kError) return std::nullopt;
    auto error = decodeBody<msg::ErrorReply>(*envelope);
    if (!error) return std::nullopt;
    return error.value();
  };
  auto sendRaw = [&](std::vector<std::string> parts) {
    for (size_t i = 0; i < parts.size(); ++i) {
      raw.send(zmq::buffer(parts[i]),
               i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  };

  sendRaw({"CCM0", "ping", "\x81\xa2id\x01"});
  auto wrong_tag = receiveError();
  ASSERT_TRUE(wrong_tag);
  EXPECT_EQ(wrong_tag->code, "version_mismatch");

  sendRaw({"CCM1", "ping", "\xc1"});
  auto garbage = receiveError();
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->code, "bad_request");

  auto body = encodeBody(msg::Query{12, "s", "", false, 0, 0});
  std::string wrong_type(body.data(), body.size());
  sendRaw({"CCM1", "fly", wrong_type});
  auto unknown = receiveError();
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->code, "bad_request");

  msgpack::sbuffer typed;
  msgpack::packer<msgpack::sbuffer> packer(typed);
  packer.pack_map(2);
  packer.pack("id");
  packer.pack(33);
  packer.pack("session");
  packer.pack(5);
  sendRaw({"CCM1", "info", std::string(typed.data(), typed.size())});
  auto mistyped = receiveError();
  ASSERT_TRUE(mistyped);
  EXPECT_EQ(mistyped->code, "bad_request");
  EXPECT_EQ(mistyped->id, 33u);

  auto status = client_->status();
  ASSERT_TRUE(status.ok());
  EXPECT_GE(status->malformed_messages, 4u);
}

TEST(SessionsFileAtStartup, PlacesDeclaredSessionsOnceWorkersJoin) {
  TempDir dir;
  const std::string path = dir.path() + "/sessions.conf";
  std::ofstream(path) << "[session.reviewer]\nsystem_prompt = You review code\n"
                         "[session.support]\nmodel = mock-small\n";
  Cluster cluster({"--sessions", path});
  auto client = cluster.client();
  auto pending = client->info("reviewer");
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->state, "pending");
  cluster.startWorker("w1");
  auto reply = client->query("reviewer", "/system");
  ASSERT_TRUE(reply.ok()) << reply.error().message << cluster.logs();
  EXPECT_EQ(reply->text, "You review code");
  EXPECT_TRUE(waitFor([&] {
    auto info = client->info("support");
    return info && info->state == "idle" && info->worker == "w1";
  }));
}

}  // namespace
}  // namespace ccmesh::test
