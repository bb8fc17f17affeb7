// Pre-defined groups: authorization, members, media, and the setup state machine.
#include "cpm/core/group.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "cpm/core/location.hpp"
#include "cpm/grammar/uri.hpp"

namespace cpm::group {

bool is_member(const config::Group& g, std::string_view uri)
{
  std::string aor = sip::canonical_aor(uri);
  return std::any_of(g.members.begin(), g.members.end(),
                     [&](const std::string& m) { return sip::canonical_aor(m) == aor; });
}

policy::Verdict authorize(const config::Group& g, std::string_view who, size_t participants)
{
  std::string aor = sip::canonical_aor(who);
  if (g.may_invite == "members" && !is_member(g, aor))
    return {403, "Forbidden", fmt::format("{} is not a member of {}", aor, g.uri)};
  if (g.max_participants > 0 && participants >= size_t(g.max_participants))
    return {403, "Forbidden",
            fmt::format("{} already has {} participants (max_participants {})", g.uri, participants,
                        g.max_participants)};
  return {};
}

std::vector<std::string> others(const config::Group& g, std::string_view who)
{
  std::string aor = sip::canonical_aor(who);
  std::vector<std::string> out;
  for (const auto& m : g.members) {
    std::string c = sip::canonical_aor(m);
    if (c != aor && std::find(out.begin(), out.end(), c) == out.end())
      out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> allowed_media(const config::Group& g)
{
  return g.media.empty() ? std::vector<std::string>{"message"} : g.media;
}

policy::Verdict check_media(const std::vector<std::string>& allowed,
                            const std::vector<std::string>& offered)
{
  if (offered.empty())
    return {488, "Not Acceptable Here", "the offer has no usable media stream"};
  if (allowed.empty())
    return {};
  for (const auto& m : offered)
    if (std::find(allowed.begin(), allowed.end(), m) == allowed.end())
      return {488, "Not Acceptable Here",
              fmt::format("media '{}' is not allowed (allowed: {})", m, fmt::join(allowed, ", "))};
  return {};
}

Setup::Setup(const std::vector<std::string>& members)
{
  for (const auto& m : members)
    m_legs.emplace(m, 0);
}

Setup::Say Setup::ringing(const std::string& member)
{
  auto it = m_legs.find(member);
  if (it == m_legs.end() || it->second != 0 || done() || m_ringing)
    return Say::Nothing;
  m_ringing = true;
  return Say::Ringing;
}

Setup::Say Setup::accepted(const std::string& member)
{
  auto it = m_legs.find(member);
  if (it == m_legs.end() || it->second != 0)
    return Say::Nothing;
  it->second = 200;
  if (done())
    return Say::Nothing;
  m_answered = true;
  return Say::Answer;
}

Setup::Say Setup::failed(const std::string& member, int status)
{
  auto it = m_legs.find(member);
  if (it == m_legs.end() || it->second != 0)
    return Say::Nothing;
  it->second = status;
  if (done() || pending() > 0)
    return Say::Nothing;
  m_failed = true;
  return Say::Fail;
}

void Setup::cancel()
{
  m_cancelled = true;
}

int Setup::failure() const
{
  bool any = false, all_busy = true;
  for (const auto& [m, s] : m_legs) {
    (void)m;
    if (s >= 300) {
      any = true;
      all_busy &= s == 486 || s == 600 || s == 603;
    }
  }
  return any && all_busy ? 486 : 480;
}

size_t Setup::pending() const
{
  return size_t(std::count_if(m_legs.begin(), m_legs.end(), [](auto& l) { return l.second == 0; }));
}

size_t Setup::joined() const
{
  return size_t(std::count_if(m_legs.begin(), m_legs.end(),
                              [](auto& l) { return l.second >= 200 && l.second < 300; }));
}

policy::Verdict check_media_change(const config::Group& g, std::string_view who,
                                   std::string_view inviter, const sdp::Diff& change)
{
  auto allowed = allowed_media(g);
  auto carried = [&](const std::string& m) {
    return std::find(allowed.begin(), allowed.end(), m) != allowed.end();
  };
  std::string aor = sip::canonical_aor(who);
  for (const auto& m : change.added) {
    if (!carried(m))
      return {
          488, "Not Acceptable Here",
          fmt::format("{} does not carry {} (media = [{}])", g.uri, m, fmt::join(allowed, ", "))};
    if (g.may_add_media == "nobody")
      return {488, "Not Acceptable Here",
              fmt::format("nobody may add media to {} (may_add_media = nobody)", g.uri)};
    if (g.may_add_media == "inviter" && aor != sip::canonical_aor(inviter))
      return {488, "Not Acceptable Here",
              fmt::format("{} may not add {} to {}: only the inviter may (may_add_media = inviter)",
                          aor, m, g.uri)};
  }
  for (const auto& m : change.modified)
    if (!carried(m))
      return {
          488, "Not Acceptable Here",
          fmt::format("{} does not carry {} (media = [{}])", g.uri, m, fmt::join(allowed, ", "))};
  return {};
}

} // namespace cpm::group
