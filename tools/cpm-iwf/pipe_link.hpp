#pragma once
// The SMS side as JSON lines (cpm-iwf(1) PIPE FORMAT): each SMS to submit is a line on
// stdout, receipts and incoming SMS are lines on stdin, so that a script is the SMS network.
#include <memory>

#include "cpm/ua/log.hpp"
#include "link.hpp"

namespace cpm::iwf {

// A link on file descriptors `in` (read on the loop) and `out` (written line by line).
std::unique_ptr<Link> make_pipe_link(int in, int out, const ua::Log& log, LinkEvents events);

// One stdin line read (pure, for the unit test): a receipt or an incoming SMS, or an error.
struct PipeInput {
  enum class Kind { Receipt, Sms };
  Kind kind = Kind::Sms;
  std::string ref;                        // the line's "id"
  iw::State state = iw::State::Delivered; // Receipt
  iw::InSms sms;                          // Sms
};
Result<PipeInput> parse_pipe_line(const std::string& line);
// The stdout line of one SMS to submit.
std::string pipe_line(const iw::OutSms& sms);

} // namespace cpm::iwf
