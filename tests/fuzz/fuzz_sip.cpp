// libFuzzer target: the SIP request reader of --explain (our parser, grammar/wire, then the
// request view) and the routing decision on whatever it accepts never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cpm/config/config.hpp"
#include "cpm/core/location.hpp"
#include "cpm/core/route.hpp"
#include "cpm/rt/sip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  static cpm::sip::Library lib;
  static cpm::config::File file = [] {
    auto f = cpm::config::parse(R"(
[[node]]
name = "coreA"
role = "core"
domain = "a.example"
listen = ["udp:127.0.1.1:5060"]
peers = { "b.example" = "udp:127.0.2.1:5060" }
[[node]]
name = "csA"
role = "conversation-server"
domain = "a.example"
listen = ["udp:127.0.1.2:5060"]
[[user]]
uri = "sip:alice@a.example"
[[trigger]]
node = "coreA"
priority = 1
session_case = "originating"
headers = { "Accept-Contact" = "oma\\.cpm" }
server = "csA"
)",
                                "fuzz.toml");
    return f ? *f : cpm::config::File{};
  }();
  static cpm::location::Store store;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto req = cpm::sip::parse_request_text(text);
  if (!req || file.nodes.empty())
    return 0;
  cpm::route::Context ctx;
  ctx.file = &file;
  ctx.node = &file.nodes.front();
  ctx.location = &store;
  ctx.self_uri = "sip:127.0.1.1:5060";
  ctx.now = 1;
  auto d = cpm::route::decide(*req, ctx);
  (void)cpm::route::format_explain(*req, d);
  return 0;
}
