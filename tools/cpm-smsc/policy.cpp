// cpm-smsc's settings per number and its stdin lines (pure).
#include <cerrno>
#include <cstdlib>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cpm/base/text.hpp"
#include "smsc.hpp"

namespace cpm::smsc {

namespace {

// "NUMBER=VALUE" split at the first '='.
Result<std::pair<std::string, std::string>> split_eq(std::string_view s, std::string_view what)
{
  auto eq = s.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == s.size())
    return fail(fmt::format("{} '{}': want NUMBER=VALUE", what, s));
  return std::pair{std::string(s.substr(0, eq)), std::string(s.substr(eq + 1))};
}

// The status names a user may give: SMPP 3.4's, with or without the ESME_ prefix.
constexpr std::pair<std::string_view, uint32_t> k_names[] = {
    {"ROK", smpp::k_esme_rok},
    {"RINVMSGLEN", smpp::k_esme_rinvmsglen},
    {"RSYSERR", smpp::k_esme_rsyserr},
    {"RINVSRCADR", smpp::k_esme_rinvsrcadr},
    {"RINVDSTADR", smpp::k_esme_rinvdstadr},
    {"RMSGQFUL", smpp::k_esme_rmsgqful},
    {"RSUBMITFAIL", smpp::k_esme_rsubmitfail},
    {"RTHROTTLED", smpp::k_esme_rthrottled},
    {"RINVEXPIRY", smpp::k_esme_rinvexpiry},
    {"RX_T_APPN", smpp::k_esme_rx_t_appn},
    {"RX_P_APPN", smpp::k_esme_rx_p_appn},
    {"RUNKNOWNERR", smpp::k_esme_runknownerr},
};

} // namespace

Result<ReceiptPlan> parse_receipt_plan(std::string_view s)
{
  ReceiptPlan p;
  if (s == "none") {
    p.send = false;
  } else if (s == "delayed") {
    p.delayed = true;
  } else if (s == "failed" || s == "undeliverable") {
    p.state = smpp::MessageState::undeliverable;
  } else if (s == "delivered") {
    p.state = smpp::MessageState::delivered;
  } else if (s == "expired") {
    p.state = smpp::MessageState::expired;
  } else if (s == "rejected") {
    p.state = smpp::MessageState::rejected;
  } else if (s == "deleted") {
    p.state = smpp::MessageState::deleted;
  } else {
    return fail(fmt::format("receipt '{}': want delivered, failed, expired, rejected, deleted, "
                            "delayed or none",
                            s));
  }
  return p;
}

Result<uint32_t> parse_status(std::string_view s)
{
  std::string_view name = s;
  if (name.size() > 5 && text::iequals(name.substr(0, 5), "ESME_"))
    name.remove_prefix(5);
  for (auto& [n, v] : k_names)
    if (text::iequals(name, n))
      return v;
  std::string digits(s);
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(digits.c_str(), &end, 0);
  if (!digits.empty() && end && *end == '\0' && errno == 0 && v <= 0xFFFFFFFFul)
    return uint32_t(v);
  return fail(fmt::format("status '{}': want a name such as ESME_RTHROTTLED or a number", s));
}

std::string number_key(std::string_view number)
{
  if (!number.empty() && number.front() == '+')
    number.remove_prefix(1);
  return std::string(number);
}

const ReceiptPlan& Policy::receipt_of(std::string_view number) const
{
  if (auto it = receipt_for.find(number_key(number)); it != receipt_for.end())
    return it->second;
  if (auto it = receipt_for.find("*"); it != receipt_for.end())
    return it->second;
  return receipt;
}

std::optional<uint32_t> Policy::take_status(std::string_view number)
{
  auto it = submit_status.find(number_key(number));
  if (it == submit_status.end())
    it = submit_status.find("*");
  if (it == submit_status.end())
    return std::nullopt;
  auto& f = it->second;
  if (f.count) {
    if (*f.count <= 0)
      return std::nullopt;
    --*f.count;
  }
  return f.status;
}

Result<Policy> make_policy(const Options& opt)
{
  Policy p;
  auto r = parse_receipt_plan(opt.receipt);
  if (!r)
    return fail("--receipt: " + r.error().message);
  p.receipt = *r;
  for (const auto& s : opt.receipt_for) {
    auto kv = split_eq(s, "--receipt-for");
    if (!kv)
      return tl::unexpected(kv.error());
    auto plan = parse_receipt_plan(kv->second);
    if (!plan)
      return fail("--receipt-for: " + plan.error().message);
    p.receipt_for[number_key(kv->first)] = *plan;
  }
  for (const auto& s : opt.submit_status) {
    auto kv = split_eq(s, "--submit-status");
    if (!kv)
      return tl::unexpected(kv.error());
    ForcedStatus f;
    std::string status = kv->second;
    if (auto star = status.find('*'); star != std::string::npos) {
      std::string n = status.substr(star + 1);
      char* end = nullptr;
      long c = std::strtol(n.c_str(), &end, 10);
      if (n.empty() || !end || *end != '\0' || c < 1 || c > 1000000)
        return fail(fmt::format("--submit-status '{}': COUNT must be 1..1000000", s));
      f.count = int(c);
      status.resize(star);
    }
    auto v = parse_status(status);
    if (!v)
      return fail("--submit-status: " + v.error().message);
    f.status = *v;
    p.submit_status[number_key(kv->first)] = f;
  }
  return p;
}

Result<std::optional<Injected>> parse_inject_line(std::string_view line, bool report_default)
{
  std::string_view t = text::trim(line);
  if (t.empty() || t.front() == '#')
    return std::optional<Injected>{};
  Injected in;
  in.report = report_default;
  if (t.front() == '{') {
    auto j = nlohmann::json::parse(t, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return fail("not a JSON object");
    auto str = [&](const char* k, std::string& out) {
      if (auto it = j.find(k); it != j.end() && it->is_string())
        out = it->get<std::string>();
    };
    str("from", in.from);
    str("to", in.to);
    str("text", in.text);
    if (auto it = j.find("report"); it != j.end() && it->is_boolean())
      in.report = it->get<bool>();
  } else {
    auto words = text::split_ws(t);
    if (words.size() >= 2) {
      in.from = std::string(words[0]);
      in.to = std::string(words[1]);
      // The text is the rest of the line after the second word, as it was typed.
      size_t at = size_t(words[1].data() - t.data()) + words[1].size();
      in.text = std::string(text::trim(t.substr(at)));
    }
  }
  if (in.from.empty() || in.to.empty())
    return fail("want FROM TO TEXT, or {\"from\":..., \"to\":..., \"text\":...}");
  if (in.from.size() > 20 || in.to.size() > 20)
    return fail("an address is longer than 20 characters");
  return std::optional<Injected>{std::move(in)};
}

} // namespace cpm::smsc
