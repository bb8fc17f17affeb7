// cpm-ladder --pcap OUT: the traces of a run merged into one capture file.
#include <cstdio>
#include <fmt/format.h>

#include "cpm/base/pcap.hpp"
#include "options.hpp"

namespace cpm::ladder_tool {

int write_capture(const std::string& out, const std::vector<std::string>& files)
{
  const std::string prog = "cpm-ladder";
  std::vector<trace::Event> events;
  for (const auto& f : files) {
    auto evs = trace::read_file(f);
    if (!evs) {
      cli::diag(prog, evs.error().message);
      return 2;
    }
    events.insert(events.end(), evs->begin(), evs->end());
  }
  auto bytes = pcap::merge(std::move(events));
  std::FILE* file = std::fopen(out.c_str(), "wb");
  bool ok = file && std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  if (file && std::fclose(file) != 0)
    ok = false;
  if (!ok) {
    cli::diag(prog, fmt::format("cannot write pcap file {}", out));
    return 2;
  }
  return 0;
}

} // namespace cpm::ladder_tool
