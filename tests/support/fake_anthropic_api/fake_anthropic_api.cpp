#include "fake_anthropic_api/fake_anthropic_api.hpp"

#include <httplib.h>

#include <stdexcept>

namespace ccmesh::test {
namespace {

constexpr const char* kJson = "application/json";
// Enough threads for many CLIs each keeping a connection alive, plus held streams.
constexpr std::size_t kServerThreads = 64;

}  // namespace

FakeAnthropicApi::FakeAnthropicApi() : server_(std::make_unique<httplib::Server>()) {
  server_->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  server_->Post("/v1/messages",
                [this](const httplib::Request& request, httplib::Response& response) {
                  handleMessages(request, response);
                });
  server_->Post("/v1/messages/count_tokens",
                [](const httplib::Request& request, httplib::Response& response) {
                  const std::string estimate = std::to_string(request.body.size() / 4 + 1);
                  response.set_content("{\"input_tokens\":" + estimate + "}", kJson);
                });
  server_->Post(".*", [](const httplib::Request& request, httplib::Response& response) {
    response.status = 404;
    response.set_content(apiErrorBody(404, "req_fake_" + std::to_string(request.body.size())),
                         kJson);
  });
  server_->Get(".*", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("{}", kJson);
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("fake Anthropic API: cannot bind 127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

FakeAnthropicApi::~FakeAnthropicApi() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string FakeAnthropicApi::baseUrl() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void FakeAnthropicApi::setDeltaDelay(Millis delay) {
  std::lock_guard lock(mutex_);
  delta_delay_ = delay;
}

void FakeAnthropicApi::failNext(std::size_t count, int status) {
  std::lock_guard lock(mutex_);
  failures_left_ = count;
  failure_status_ = status;
}

void FakeAnthropicApi::setReplyRules(ReplyRules rules) {
  std::lock_guard lock(mutex_);
  rules_ = std::move(rules);
}

void FakeAnthropicApi::holdStreamsAfterFirstDelta() {
  std::lock_guard lock(mutex_);
  hold_ = true;
}

void FakeAnthropicApi::releaseStreams() {
  {
    std::lock_guard lock(mutex_);
    hold_ = false;
  }
  changed_.notify_all();
}

std::vector<MessagesRequest> FakeAnthropicApi::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t FakeAnthropicApi::requestCount() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

std::optional<MessagesRequest> FakeAnthropicApi::waitForRequest(std::size_t number,
                                                                Millis deadline) {
  std::unique_lock lock(mutex_);
  if (number == 0) return std::nullopt;
  if (!changed_.wait_for(lock, deadline, [&] { return requests_.size() >= number; })) {
    return std::nullopt;
  }
  return requests_[number - 1];
}

std::size_t FakeAnthropicApi::finishedStreams() const {
  std::lock_guard lock(mutex_);
  return finished_streams_;
}

std::size_t FakeAnthropicApi::abandonedStreams() const {
  std::lock_guard lock(mutex_);
  return abandoned_streams_;
}

bool FakeAnthropicApi::waitForAbandonedStreams(std::size_t count, Millis deadline) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, deadline, [&] { return abandoned_streams_ >= count; });
}

void FakeAnthropicApi::handleMessages(const httplib::Request& request,
                                      httplib::Response& response) {
  auto parsed = MessagesRequest::parse(request.body);
  if (!parsed) {
    response.status = 400;
    response.set_content(apiErrorBody(400, "req_fake_invalid"), kJson);
    return;
  }
  parsed->session_header = request.get_header_value("X-Claude-Code-Session-Id");
  Answer answer;
  {
    std::lock_guard lock(mutex_);
    answer.serial = requests_.size() + 1;
    if (failures_left_ > 0) {
      --failures_left_;
      answer.status = failure_status_;
    } else {
      answer.reply = MessageReply::answering(*parsed, rules_, answer.serial);
    }
    answer.delta_delay = delta_delay_;
    answer.hold = hold_;
    requests_.push_back(*parsed);
  }
  changed_.notify_all();
  const std::string request_id = "req_fake_" + std::to_string(answer.serial);
  response.set_header("request-id", request_id);
  if (answer.status != 200) {
    response.status = answer.status;
    if (answer.status == 429 || answer.status == 529) response.set_header("retry-after", "1");
    response.set_content(apiErrorBody(answer.status, request_id), kJson);
  } else if (parsed->stream) {
    streamReply(answer, response);
  } else {
    response.set_content(answer.reply.json(), kJson);
  }
}

void FakeAnthropicApi::streamReply(const Answer& answer, httplib::Response& response) {
  response.set_header("Cache-Control", "no-cache");
  auto events = std::make_shared<std::vector<SseEvent>>(answer.reply.events());
  response.set_chunked_content_provider(
      "text/event-stream", [this, events, answer](std::size_t, httplib::DataSink& sink) {
        bool first_delta_sent = false;
        for (const auto& event : *events) {
          if (event.name == "content_block_delta" && answer.delta_delay.count() > 0 &&
              !pause(answer.delta_delay)) {
            return false;
          }
          const std::string wire = event.wire();
          if (!sink.write(wire.data(), wire.size())) {
            {
              std::lock_guard lock(mutex_);
              ++abandoned_streams_;
            }
            changed_.notify_all();
            return false;
          }
          if (event.isTextDelta() && !first_delta_sent) {
            first_delta_sent = true;
            if (answer.hold) waitForRelease();
          }
        }
        {
          std::lock_guard lock(mutex_);
          ++finished_streams_;
        }
        changed_.notify_all();
        sink.done();
        return true;
      });
}

bool FakeAnthropicApi::pause(Millis delay) {
  std::unique_lock lock(mutex_);
  return !changed_.wait_for(lock, delay, [this] { return stopping_; });
}

void FakeAnthropicApi::waitForRelease() {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, kHoldLimit, [this] { return stopping_ || !hold_; });
}

}  // namespace ccmesh::test
