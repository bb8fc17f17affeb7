// libFuzzer target: cpm::msrp::Parser never crashes on any split of the input, the frames it
// accepts re-encode to text that parses back to the same frame, and the Reassembler takes
// whatever SENDs come out of it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "cpm/codec/msrp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  // The input's length picks how the stream is split, so seeds stay whole frames.
  size_t step = 1 + size % 67;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  cpm::msrp::Parser parser(64 * 1024);
  cpm::msrp::Reassembler reasm(256 * 1024);
  std::vector<cpm::msrp::Frame> frames;
  for (size_t i = 0; i < text.size(); i += step)
    if (!parser.feed(text.substr(i, step), frames))
      break;
  for (auto& f : frames) {
    (void)cpm::msrp::check_request(f);
    (void)cpm::msrp::make_response(f, 400);
    (void)cpm::msrp::report_status(f);
    if (f.request && f.method == "SEND")
      (void)reasm.feed(f);
    auto again = cpm::msrp::encode(f);
    if (!again)
      continue;
    cpm::msrp::Parser p2(1024 * 1024);
    std::vector<cpm::msrp::Frame> back;
    if (!p2.feed(*again, back) || back.size() != 1 || back[0].body != f.body ||
        back[0].tid != f.tid || back[0].headers.size() != f.headers.size())
      std::abort();
  }
  return 0;
}
