// libFuzzer target: expected-ladder files and trace lines never crash their parsers, and any
// message (SIP, MSRP, an SMPP description) is annotated and drawn without crashing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cpm/base/trace.hpp"
#include "cpm/ladder/ladder.hpp"

namespace {

// Notes, steps and every drawing of `hs`.
void draw_all(std::vector<cpm::ladder::Arrow> hs)
{
  cpm::ladder::annotate(hs, {{"a", "core"}, {"b", "conversation-server"}});
  for (auto& h : hs)
    h.step = "1";
  (void)cpm::ladder::format_lines(hs);
  (void)cpm::ladder::format_columns(hs, {});
  (void)cpm::ladder::format_mermaid(hs, {});
  (void)cpm::ladder::format_svg(hs, {});
  (void)cpm::ladder::format_detail(hs, 1);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)cpm::ladder::parse_expected(text, "fuzz.ladder");
  if (auto e = cpm::trace::from_json(text)) {
    std::vector<cpm::trace::Event> ev{*e, *e};
    draw_all(cpm::ladder::arrows(ev));
  }
  // The text as a message from a to b, answered by the same text from b to a.
  for (const char* transport : {"udp", "smpp"}) {
    cpm::trace::Event e;
    e.node = "a";
    e.dir = "tx";
    e.transport = transport;
    e.local = "127.0.0.1:1";
    e.peer = "127.0.0.2:2";
    e.message = text;
    e.first_line = cpm::trace::first_line(text);
    e.call_id = cpm::trace::call_id(text);
    auto back = e;
    back.node = "b";
    back.local = e.peer;
    back.peer = e.local;
    back.time_us = 1;
    draw_all(cpm::ladder::arrows({e, back}));
  }
  return 0;
}
