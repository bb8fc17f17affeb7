// --trace FILE: JSON Lines of every message sent or received.
#include "cpm/base/trace.hpp"

#include "cpm/base/hep.hpp"
#include "cpm/base/pcap.hpp"
#include "cpm/base/text.hpp"

#include <charconv>
#include <chrono>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

namespace cpm::trace {

Writer::Writer() = default;

Writer::~Writer()
{
  if (m_file)
    std::fclose(m_file);
}

Result<void> Writer::open(const std::string& path, std::string node)
{
  m_node = std::move(node);
  m_file = std::fopen(path.c_str(), "a");
  if (!m_file)
    return fail(fmt::format("cannot open trace file {}", path));
  return {};
}

Result<void> Writer::open_pcap(const std::string& path)
{
  auto w = std::make_unique<pcap::Writer>();
  if (auto r = w->open(path); !r)
    return r;
  m_pcap = std::move(w);
  return {};
}

Result<void> Writer::open_hep(const hep::Options& o, const std::string& prog)
{
  auto s = std::make_unique<hep::Sender>();
  if (auto r = s->open(o, prog); !r)
    return r;
  m_hep = std::move(s);
  return {};
}

void Writer::write(std::string_view dir, std::string_view transport, std::string_view local,
                   std::string_view peer, std::string_view message, std::string_view wire)
{
  const int64_t time = now_us();
  if (m_pcap && (dir == "tx" || dir == "rx")) {
    auto bytes = wire.empty() ? message : wire;
    if (dir == "tx")
      m_pcap->write(time, transport, local, peer, bytes);
    else
      m_pcap->write(time, transport, peer, local, bytes);
  }
  if (m_hep && wire.empty() && (dir == "tx" || dir == "rx")) {
    if (dir == "tx")
      m_hep->send(time, transport, local, peer, message);
    else
      m_hep->send(time, transport, peer, local, message);
  }
  if (!m_file)
    return;
  Event e;
  e.time_us = time;
  e.node = m_node;
  e.dir = dir;
  e.transport = transport;
  e.local = local;
  e.peer = peer;
  e.first_line = first_line(message);
  e.call_id = call_id(message);
  e.message = message;
  e.wire = wire;
  auto line = to_json(e);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), m_file);
  std::fflush(m_file);
}

std::string first_line(std::string_view message)
{
  auto end = message.find_first_of("\r\n");
  return std::string(message.substr(0, end));
}

std::string call_id(std::string_view message)
{
  size_t pos = 0;
  while (pos < message.size()) {
    auto end = message.find('\n', pos);
    if (end == std::string_view::npos)
      end = message.size();
    auto line = message.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty())
      break; // end of headers
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      auto name = text::trim(line.substr(0, colon));
      if (text::iequals(name, "Call-ID") || text::iequals(name, "i"))
        return std::string(text::trim(line.substr(colon + 1)));
    }
    pos = end + 1;
  }
  return {};
}

std::string to_json(const Event& e)
{
  nlohmann::json j = {{"time", e.time_us},          {"node", e.node},       {"dir", e.dir},
                      {"transport", e.transport},   {"local", e.local},     {"peer", e.peer},
                      {"first_line", e.first_line}, {"call_id", e.call_id}, {"message", e.message}};
  if (!e.wire.empty()) {
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * e.wire.size());
    for (unsigned char c : e.wire) {
      hex += k_hex[c >> 4];
      hex += k_hex[c & 15];
    }
    j["wire"] = hex;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Event> from_json(std::string_view line)
{
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail("not a JSON object");
  Event e;
  try {
    e.time_us = j.at("time").get<int64_t>();
    e.node = j.at("node").get<std::string>();
    e.dir = j.at("dir").get<std::string>();
    e.transport = j.value("transport", "");
    e.local = j.value("local", "");
    e.peer = j.value("peer", "");
    e.message = j.value("message", "");
    e.first_line = j.value("first_line", first_line(e.message));
    e.call_id = j.value("call_id", call_id(e.message));
    auto hex = j.value("wire", "");
    if (hex.size() % 2)
      return fail("bad trace event: \"wire\" is not hex");
    for (size_t i = 0; i < hex.size(); i += 2) {
      unsigned v = 0;
      auto [end, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
      if (ec != std::errc() || end != hex.data() + i + 2)
        return fail("bad trace event: \"wire\" is not hex");
      e.wire += static_cast<char>(v);
    }
  } catch (const std::exception& ex) {
    return fail(fmt::format("bad trace event: {}", ex.what()));
  }
  return e;
}

Result<std::vector<Event>> read_file(const std::string& path)
{
  std::ifstream in(path);
  if (!in)
    return fail(fmt::format("cannot read trace file {}", path));
  std::vector<Event> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty())
      continue;
    auto e = from_json(line);
    if (!e)
      return fail(fmt::format("{}:{}: {}", path, n, e.error().message));
    out.push_back(std::move(*e));
  }
  return out;
}

int64_t now_us()
{
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace cpm::trace
