// The JSON forms `ccmesh --json`, /events and the HTTP API print.
#include "ccmesh/common/json_forms.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ccmesh {
namespace {

TEST(JsonFormsTest, AFeedEventIsItsFixedMembersThenItsFieldsNeverReplacingThem) {
  const msg::FeedEvent event{0,
                             7,
                             "session_state_changed",
                             "session s: idle -> busy",
                             1000,
                             {{"session", "s"}, {"to", "busy"}, {"seq", "99"}}};
  EXPECT_EQ(jsonText(Json(event)),
            R"({"seq":7,"time":"1970-01-01T00:00:01Z","time_ms":1000,)"
            R"("type":"session_state_changed","text":"session s: idle -> busy",)"
            R"("session":"s","to":"busy"})");
}

TEST(JsonFormsTest, TextThatIsNotUtf8IsShownWithReplacementCharacters) {
  // A crash reason carrying a CLI's stray bytes: a plain dump() would throw on the loop.
  const msg::FeedEvent event{0, 1, "session_crashed", "exit: \xff\xfe end", 0, {}};
  std::string text;
  ASSERT_NO_THROW(text = jsonText(Json(event)));
  EXPECT_NE(text.find("exit: \xEF\xBF\xBD"), std::string::npos) << text;
  EXPECT_NE(text.find(" end"), std::string::npos) << text;
}

}  // namespace
}  // namespace ccmesh
