// The pipe link: JSON lines out (SMS to submit, acknowledgements) and in (receipts, SMS).
#include "pipe_link.hpp"

#include <cerrno>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cpm/ua/line_input.hpp"

namespace cpm::iwf {

namespace {

using json = nlohmann::json;

std::string dump(const json& j)
{
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A string member, or `fallback`.
std::string str(const json& j, const char* key, std::string fallback = "")
{
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return fallback;
  if (it->is_string())
    return it->get<std::string>();
  if (it->is_number_integer())
    return std::to_string(it->get<long long>());
  throw std::runtime_error(fmt::format("'{}' is not a string", key));
}

// An integer member in [lo, hi], or `fallback`.
int integer(const json& j, const char* key, int fallback, int lo, int hi)
{
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return fallback;
  if (!it->is_number_integer())
    throw std::runtime_error(fmt::format("'{}' is not an integer", key));
  long long v = it->get<long long>();
  if (v < lo || v > hi)
    throw std::runtime_error(fmt::format("'{}' is out of range {}..{}", key, lo, hi));
  return int(v);
}

// A number member: E.164 ("+15550100").
std::string number(const json& j, const char* key)
{
  std::string v = str(j, key);
  auto n = iw::number_of("tel:" + v);
  if (!n)
    throw std::runtime_error(fmt::format("'{}' is not an E.164 number: '{}'", key, v));
  return *n;
}

} // namespace

Result<PipeInput> parse_pipe_line(const std::string& line)
{
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail("not a JSON object");
  try {
    PipeInput in;
    const std::string type = str(j, "type");
    in.ref = str(j, "id");
    if (type == "receipt") {
      in.kind = PipeInput::Kind::Receipt;
      if (in.ref.empty())
        return fail("a receipt needs the \"id\" of the SMS it is about");
      auto st = iw::state_of(str(j, "stat", "DELIVRD"));
      if (!st)
        return fail(fmt::format("unknown stat '{}' (DELIVRD, UNDELIV, EXPIRED, REJECTD...)",
                                str(j, "stat")));
      in.state = *st;
      return in;
    }
    if (type != "sms")
      return fail(fmt::format("unknown type '{}' (want \"sms\" or \"receipt\")", type));
    in.kind = PipeInput::Kind::Sms;
    auto& s = in.sms;
    s.src = number(j, "from");
    s.dst = number(j, "to");
    s.text = str(j, "text");
    auto rep = j.find("report");
    if (rep != j.end() && !rep->is_boolean())
      return fail("'report' is not true or false");
    s.report = rep != j.end() && rep->get<bool>();
    s.ref = integer(j, "ref", -1, 0, 255);
    s.total = integer(j, "total", 1, 1, 255);
    s.seq = integer(j, "seq", 1, 1, 255);
    if (s.seq > s.total)
      return fail("'seq' is greater than 'total'");
    if (s.total > 1 && s.ref < 0)
      return fail("a part ('total' over 1) needs its 'ref'");
    s.smsc_id = in.ref;
    if (!in.ref.empty())
      s.key = fmt::format("pipe {} {} {}", s.src, in.ref, s.seq);
    return in;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

std::string pipe_line(const iw::OutSms& sms)
{
  json j;
  if (sms.kind == iw::OutSms::Kind::Ack) {
    j = {{"type", "report"}, {"id", std::to_string(sms.id)},
         {"from", sms.src},  {"to", sms.dst},
         {"ref", sms.ref},   {"stat", sms.state}};
  } else {
    j = {{"type", "sms"},    {"id", std::to_string(sms.id)}, {"from", sms.src}, {"to", sms.dst},
         {"text", sms.text}, {"report", sms.report}};
  }
  return dump(j);
}

namespace {

class PipeLink final : public Link {
public:
  PipeLink(int in, int out, const ua::Log& log, LinkEvents ev)
      : m_out(out), m_log(log), m_ev(std::move(ev)),
        m_input(
            in, log, [this](const std::string& l) { line(l); },
            [this] { m_log.diag("stdin ended: no more receipts or SMS from the pipe"); })
  {
  }

  void start() override
  {
    m_input.start();
    if (m_ev.ready)
      m_ev.ready();
  }

  size_t room() const override { return m_broken ? 0 : 1000; }

  void submit(const iw::OutSms& sms) override
  {
    if (!write(pipe_line(sms))) {
      m_ev.refused(sms.id, "stdout is closed", false);
      return;
    }
    m_ev.submitted(sms.id, {std::to_string(sms.id)});
  }

  void stop() override { m_input.stop(); }

private:
  bool write(std::string l)
  {
    if (m_broken)
      return false;
    l += '\n';
    size_t off = 0;
    while (off < l.size()) {
      ssize_t n = ::write(m_out, l.data() + off, l.size() - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        continue;
      if (n <= 0) {
        m_log.diag(fmt::format("stdout: {}: nothing more is submitted", std::strerror(errno)));
        m_broken = true;
        return false;
      }
      off += size_t(n);
    }
    return true;
  }

  void line(const std::string& l)
  {
    ++m_line;
    if (l.empty())
      return;
    auto in = parse_pipe_line(l);
    if (!in) {
      m_log.diag(fmt::format("stdin line {}: {}: ignored", m_line, in.error().message));
      write(dump({{"type", "nack"}, {"line", m_line}, {"error", in.error().message}}));
      return;
    }
    const std::string ref = in->ref;
    if (in->kind == PipeInput::Kind::Receipt) {
      m_ev.receipt(ref, in->state, [this, ref] { write(dump({{"type", "ack"}, {"id", ref}})); });
      return;
    }
    const int n = m_line;
    m_ev.incoming(std::move(in->sms), [this, ref, n](Ack a) {
      if (a == Ack::Ok)
        write(dump({{"type", "ack"}, {"id", ref}}));
      else
        write(dump({{"type", "nack"},
                    {"line", n},
                    {"id", ref},
                    {"error", a == Ack::NoUser ? "no CPM user has this number" : "not stored"}}));
    });
  }

  int m_out;
  ua::Log m_log;
  LinkEvents m_ev;
  ua::LineInput m_input;
  int m_line = 0;
  bool m_broken = false;
};

} // namespace

std::unique_ptr<Link> make_pipe_link(int in, int out, const ua::Log& log, LinkEvents events)
{
  return std::make_unique<PipeLink>(in, out, log, std::move(events));
}

} // namespace cpm::iwf
