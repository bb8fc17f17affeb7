#pragma once
// The IWF's SMS side as the role sees it: an SMSC over SMPP, or JSON lines on a pipe. The
// role hands it SMS to submit and hears what happened to them and what arrived.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cpm/iw/mapping.hpp"
#include "cpm/iw/store.hpp"

namespace cpm::iwf {

// How an incoming SMS was taken.
enum class Ack { Ok, NoUser, Failed };

// What a link reports (all on the loop).
struct LinkEvents {
  // The SMS network took SMS `id`: its id(s) there, one per part.
  std::function<void(int64_t id, std::vector<std::string> network_ids)> submitted;
  // It refused SMS `id` (`final`: retrying cannot help).
  std::function<void(int64_t id, std::string why, bool final)> refused;
  // SMS `id` went nowhere known (the link ended first): it waits for the link again.
  std::function<void(int64_t id)> returned;
  // A delivery receipt for the part the network knows as `network_id`; `ack` once stored.
  std::function<void(std::string network_id, iw::State state, std::function<void()> ack)> receipt;
  // An SMS (or a part) for a number; `ack` at once, Ok only once it is stored.
  std::function<void(iw::InSms sms, std::function<void(Ack)> ack)> incoming;
  // The link can take submissions (again): bound, or its window has room.
  std::function<void()> ready;
};

class Link {
public:
  virtual ~Link() = default;
  // Start (connect, read): events follow on the loop.
  virtual void start() = 0;
  // How many more SMS it takes now (0 while unbound or its window is full).
  virtual size_t room() const = 0;
  // Submit one SMS; the outcome comes as `submitted` or `refused`.
  virtual void submit(const iw::OutSms& sms) = 0;
  // Orderly end (unbind).
  virtual void stop() = 0;
};

} // namespace cpm::iwf
