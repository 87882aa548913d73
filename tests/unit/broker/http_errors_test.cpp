// How the HTTP API answers a ccmesh error: its status, Retry-After, and the JSON body.
#include "http_api/http_errors.hpp"

#include <gtest/gtest.h>

namespace ccmesh::broker {
namespace {

TEST(HttpErrorsTest, EachCodeHasTheStatusTheDocsName) {
  EXPECT_EQ(httpStatus(ErrorCode::kNotFound), 404);
  EXPECT_EQ(httpStatus(ErrorCode::kBusy), 429);
  EXPECT_EQ(httpStatus(ErrorCode::kPoolExhausted), 429);
  EXPECT_EQ(httpStatus(ErrorCode::kUnauthorized), 401);
  EXPECT_EQ(httpStatus(ErrorCode::kTimeout), 504);
  EXPECT_EQ(httpStatus(ErrorCode::kBadRequest), 400);
  EXPECT_EQ(httpStatus(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(httpStatus(ErrorCode::kAlreadyExists), 409);
  EXPECT_EQ(httpStatus(ErrorCode::kWorkerLost), 502);
  EXPECT_EQ(httpStatus(ErrorCode::kInternal), 500);
  for (int code = 0; code <= static_cast<int>(ErrorCode::kConversationIncomplete); ++code) {
    const int status = httpStatus(static_cast<ErrorCode>(code));
    EXPECT_GE(status, 400) << code;
    EXPECT_LT(status, 600) << code;
  }
}

TEST(HttpErrorsTest, BusyAsksToComeBackAndTheBodyCarriesCodeMessageAndPartial) {
  const auto busy = errorReply(localError(ErrorCode::kBusy, "queue full"));
  EXPECT_EQ(busy.status, 429);
  ASSERT_EQ(busy.headers.size(), 1u);
  EXPECT_EQ(busy.headers[0].first, "Retry-After");
  EXPECT_EQ(busy.headers[0].second, "1");
  EXPECT_EQ(Json::parse(busy.body), (Json{{"error", "busy"}, {"message", "queue full"}}));

  client::ReplyError timeout = localError(ErrorCode::kTimeout, "too slow");
  timeout.partial = "half an ans";
  const auto late = errorReply(timeout);
  EXPECT_EQ(late.status, 504);
  EXPECT_TRUE(late.headers.empty());
  EXPECT_EQ(Json::parse(late.body)["partial"], "half an ans");

  // A code this build does not know keeps its wire name.
  client::ReplyError future{ErrorCode::kInternal, "not_leader", "ask the other one", ""};
  EXPECT_EQ(errorJson(future)["error"], "not_leader");
}

}  // namespace
}  // namespace ccmesh::broker
