#include <doctest/doctest.h>

#include "cpm/core/group.hpp"

using namespace cpm;
using Say = group::Setup::Say;

namespace {
config::Group friends()
{
  config::Group g;
  g.uri = "sip:friends@x.example";
  g.host = "csX";
  g.members = {"sip:alice@a.example", "sip:bob@b.example", "sip:carol@b.example"};
  return g;
}
} // namespace

TEST_SUITE_BEGIN("group");

TEST_CASE("members may invite, others get 403")
{
  auto g = friends();
  CHECK(group::authorize(g, "<sip:alice@a.example>;tag=1").allowed());
  CHECK(group::authorize(g, "sip:Bob@B.example").allowed() == false); // user part is case-sensitive
  CHECK(group::authorize(g, "sip:bob@B.EXAMPLE").allowed());
  auto v = group::authorize(g, "sip:mallory@a.example");
  CHECK(v.status == 403);
  CHECK(v.why.find("not a member") != std::string::npos);
  g.may_invite = "anyone";
  CHECK(group::authorize(g, "sip:mallory@a.example").allowed());
}

TEST_CASE("max_participants limits a running session")
{
  auto g = friends();
  g.max_participants = 2;
  CHECK(group::authorize(g, "sip:carol@b.example", 1).allowed());
  CHECK(group::authorize(g, "sip:carol@b.example", 2).status == 403);
}

TEST_CASE("others are every member but the inviter, once each")
{
  auto g = friends();
  g.members.push_back("sip:bob@b.example;user=x");
  auto o = group::others(g, "sip:alice@a.example");
  REQUIRE(o.size() == 2);
  CHECK(o[0] == "sip:bob@b.example");
  CHECK(o[1] == "sip:carol@b.example");
  CHECK(group::others(g, "sip:mallory@a.example").size() == 3);
}

TEST_CASE("media policy")
{
  auto g = friends();
  CHECK(group::allowed_media(g) == std::vector<std::string>{"message"});
  CHECK(group::check_media({"message"}, {"message"}).allowed());
  CHECK(group::check_media({"message"}, {"message", "audio"}).status == 488);
  CHECK(group::check_media({}, {"video"}).allowed());
  CHECK(group::check_media({"message"}, {}).status == 488);
}

TEST_CASE("group::check_media_change: which media the group carries, who may add one")
{
  auto g = friends();
  sdp::Diff add_audio;
  add_audio.added = {"audio"};
  sdp::Diff modify_audio;
  modify_audio.modified = {"audio"};
  sdp::Diff remove_audio;
  remove_audio.removed = {"audio"};
  const char* alice = "sip:alice@a.example";
  const char* bob = "<sip:bob@b.example>;tag=9";

  // Message only (no media key): audio is refused, naming the group's rule.
  auto v = group::check_media_change(g, alice, alice, add_audio);
  CHECK(v.status == 488);
  CHECK(v.why == "sip:friends@x.example does not carry audio (media = [message])");
  CHECK(group::check_media_change(g, alice, alice, modify_audio).status == 488);
  CHECK(group::check_media_change(g, alice, alice, remove_audio).allowed());
  CHECK(group::check_media_change(g, alice, alice, sdp::Diff{}).allowed());

  g.media = {"message", "audio"};
  CHECK(group::check_media_change(g, bob, alice, add_audio).allowed()); // participants
  CHECK(group::check_media_change(g, bob, alice, modify_audio).allowed());

  g.may_add_media = "inviter";
  CHECK(group::check_media_change(g, "sip:alice@A.EXAMPLE", alice, add_audio).allowed());
  v = group::check_media_change(g, bob, alice, add_audio);
  CHECK(v.status == 488);
  CHECK(v.why.find("only the inviter") != std::string::npos);
  CHECK(v.why.find("sip:bob@b.example") != std::string::npos);
  CHECK(group::check_media_change(g, bob, alice, modify_audio).allowed()); // a change is no add
  CHECK(group::check_media_change(g, bob, alice, remove_audio).allowed());

  g.may_add_media = "nobody";
  v = group::check_media_change(g, alice, alice, add_audio);
  CHECK(v.status == 488);
  CHECK(v.why.find("may_add_media = nobody") != std::string::npos);
}

TEST_CASE("only the first 180 and the first 200 reach the inviter")
{
  group::Setup s({"sip:bob@b.example", "sip:carol@b.example"});
  CHECK(s.ringing("sip:bob@b.example") == Say::Ringing);
  CHECK(s.ringing("sip:carol@b.example") == Say::Nothing);
  CHECK(s.ringing("sip:bob@b.example") == Say::Nothing);
  CHECK(s.ringing("sip:nobody@b.example") == Say::Nothing);
  CHECK(s.accepted("sip:carol@b.example") == Say::Answer);
  CHECK(s.answered());
  CHECK(s.accepted("sip:bob@b.example") == Say::Nothing); // joins later
  CHECK(s.joined() == 2);
  CHECK(s.accepted("sip:bob@b.example") == Say::Nothing); // a retransmitted 200
  CHECK(s.joined() == 2);
}

TEST_CASE("a decline leaves the others, all failing fails the inviter")
{
  group::Setup s({"sip:bob@b.example", "sip:carol@b.example"});
  CHECK(s.failed("sip:carol@b.example", 603) == Say::Nothing);
  CHECK(s.pending() == 1);
  CHECK(s.failed("sip:bob@b.example", 486) == Say::Fail);
  CHECK(s.failure() == 486);
  CHECK(s.failed("sip:bob@b.example", 486) == Say::Nothing);

  group::Setup t({"sip:bob@b.example", "sip:carol@b.example"});
  CHECK(t.failed("sip:carol@b.example", 603) == Say::Nothing);
  CHECK(t.accepted("sip:bob@b.example") == Say::Answer);
  CHECK(t.joined() == 1);

  group::Setup u({"sip:bob@b.example", "sip:carol@b.example"});
  CHECK(u.failed("sip:carol@b.example", 408) == Say::Nothing);
  CHECK(u.failed("sip:bob@b.example", 480) == Say::Fail);
  CHECK(u.failure() == 480);
}

TEST_CASE("no leg at all, and a cancelled setup says nothing more")
{
  group::Setup s({"sip:bob@b.example"});
  s.cancel();
  CHECK(s.ringing("sip:bob@b.example") == Say::Nothing);
  CHECK(s.accepted("sip:bob@b.example") == Say::Nothing);
  CHECK(s.done());
}

TEST_SUITE_END();
