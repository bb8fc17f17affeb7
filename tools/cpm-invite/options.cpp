// cpm-invite: options, config merge and the pure helpers of the session client.
#include <cmath>
#include <fmt/format.h>

#include "cpm-invite/invite.hpp"
#include "cpm/base/text.hpp"
#include "cpm/codec/cpim.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/media/audio.hpp"
#include "cpm/ua/program.hpp"

namespace cpm::invite {

namespace {

using text::lower;

bool seconds_ok(double s)
{
  return std::isfinite(s) && s >= 0 && s <= 86400;
}

} // namespace

Result<void> apply_config(Options& opt, const config::File& file)
{
  auto node = cli::apply_client_node(opt.common, opt.password, file);
  if (!node)
    return tl::unexpected(node.error());
  opt.msrp_tls = opt.msrp_tls || (*node)->msrp_tls;
  return {};
}

Result<void> validate(const Options& opt)
{
  if (opt.answer && !opt.to.empty())
    return fail("--answer takes no TO");
  if (!opt.answer && opt.to.empty())
    return fail("missing TO (whom to invite), or give --answer");
  if (!opt.answer && (opt.decline || opt.answer_after > 0 || opt.count != 1))
    return fail("--decline, --answer-after and --count need --answer");
  if (opt.decline && (opt.decline < 400 || opt.decline > 699))
    return fail("--decline CODE must be 400..699");
  if (opt.count < 0)
    return fail("--count must be >= 0");
  if (!seconds_ok(opt.answer_after))
    return fail("--answer-after must be a number of seconds >= 0");
  if (!seconds_ok(opt.duration))
    return fail("--duration must be a number of seconds >= 0");
  if (!seconds_ok(opt.timeout) || opt.timeout <= 0)
    return fail("--timeout must be a number of seconds > 0");
  if (auto r = ua::check_addresses(opt.common, opt.do_register, opt.answer, opt.to); !r)
    return r;
  for (const auto& s : opt.send)
    if (s.find_first_of("\r\n") != std::string::npos)
      return fail("--send TEXT must be one line");
  if (auto a = accepts_audio(opt.accept_media); !a)
    return tl::unexpected(a.error());
  if (!media::codec_by_name(opt.codec))
    return fail("--codec must be pcmu, pcma or opus");
  if (opt.add_audio_after >= 0 && !seconds_ok(opt.add_audio_after))
    return fail("--add-audio-after must be a number of seconds >= 0");
  if (opt.audio_once && opt.audio_in.empty())
    return fail("--audio-once needs --audio-in");
  if (opt.offer_audio && opt.answer)
    return fail("--audio is for the inviting side (--answer takes what is offered: see "
                "--accept-media)");
  return {};
}

std::string wrap(const Chat& c)
{
  cpim::Outgoing o;
  o.from = c.from;
  o.to = c.to;
  o.message_id = c.message_id.empty() ? imdn::make_message_id() : c.message_id;
  o.datetime = c.datetime;
  o.body = c.text;
  return cpim::encode(cpim::make(o));
}

Result<Chat> unwrap(std::string_view content_type, std::string_view body)
{
  auto type = lower(text::trim(content_type.substr(0, content_type.find(';'))));
  Chat c;
  if (type == "text/plain") {
    c.text = std::string(body);
    return c;
  }
  if (type != "message/cpim")
    return fail(fmt::format("unsupported content type '{}'", content_type), 415);
  auto m = cpim::decode(body);
  if (!m)
    return fail(m.error().message, 400);
  auto inner = m->content_type();
  if (inner != "text/plain")
    return fail(fmt::format("unsupported wrapped content type '{}'", inner), 415);
  c.from = cpim::address(m->get("From").value_or(""));
  c.to = cpim::address(m->get("To").value_or(""));
  c.message_id = m->get_ns(cpim::k_imdn_ns, "Message-ID").value_or("");
  c.datetime = m->get("DateTime").value_or("");
  c.text = m->body;
  return c;
}

std::string chat_line(const Chat& c)
{
  std::string text = c.text;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return fmt::format("{}: {}\n", c.from.empty() ? "-" : c.from, text);
}

events::Json chat_event(const Chat& c)
{
  return {{"event", "message"},
          {"from", c.from},
          {"to", c.to},
          {"text", c.text},
          {"message_id", c.message_id},
          {"time", c.datetime.empty() ? events::now() : c.datetime}};
}

std::string refused(std::string_view to, int status, std::string_view reason)
{
  return fmt::format("{} refused the session: {} {}", to, status, reason);
}

bool is_focus(std::string_view contact)
{
  auto na = sip::parse_name_addr(contact, "Contact");
  return na && sip::find_param(na->params, "isfocus");
}

Command parse_command(const std::string& line)
{
  using K = Command::Kind;
  if (line.empty() || line[0] != '/')
    return {K::Chat, line};
  if (line.size() > 1 && line[1] == '/')
    return {K::Chat, line.substr(1)};
  std::vector<std::string> w;
  for (auto v : text::split_ws(std::string_view(line).substr(1)))
    w.emplace_back(v);
  auto cmd = w.empty() ? std::string() : lower(w[0]);
  if (cmd == "audio" && w.size() == 1)
    return {K::AudioOn, {}};
  if (cmd == "audio" && w.size() == 2 && lower(w[1]) == "off")
    return {K::AudioOff, {}};
  if (cmd == "audio" && w.size() == 2 && lower(w[1]) == "on")
    return {K::AudioOn, {}};
  if (cmd == "hold" && w.size() == 1)
    return {K::Hold, {}};
  if (cmd == "resume" && w.size() == 1)
    return {K::Resume, {}};
  if (cmd == "codec" && w.size() == 2 && media::codec_by_name(w[1]))
    return {K::Codec, lower(w[1])};
  if (cmd == "help" && w.size() == 1)
    return {K::Help, {}};
  return {K::Unknown, line};
}

std::string command_help()
{
  return "commands: /audio (add audio), /audio off (remove it), /hold (sendonly), /resume "
         "(sendrecv), /codec pcmu|pcma|opus, /help; //text sends the chat line /text";
}

Result<bool> accepts_audio(const std::string& accept_media)
{
  auto v = lower(text::trim(accept_media));
  if (v == "all")
    return true;
  bool message = false, audio = false;
  for (auto part : text::split_list(v, ',')) {
    auto p = text::trim(part);
    if (p == "message")
      message = true;
    else if (p == "audio")
      audio = true;
    else
      return fail(fmt::format("--accept-media: unknown medium '{}' (all, message, audio)", p));
  }
  if (!message)
    return fail("--accept-media must take message (the chat): all, message or message,audio");
  return audio;
}

events::Json media_event(std::string_view action, std::string_view media, int status,
                         std::string_view warning)
{
  events::Json e{{"event", "media"}, {"action", action}, {"media", media}};
  if (status)
    e["status"] = status;
  if (!warning.empty())
    e["warning"] = warning;
  return e;
}

void add_options(CLI::App& app, Options& opt)
{
  cli::add_common(app, opt.common,
                  cli::k_config | cli::k_listen | cli::k_proxy | cli::k_from | cli::k_json |
                      cli::k_trace | cli::k_ready_fd | cli::k_dns | cli::k_tls);
  app.add_option("--name", opt.name, "Node name in traces when there is no --node");
  app.add_flag("--answer", opt.answer, "Wait for invitations and answer them");
  app.add_option("--answer-after", opt.answer_after,
                 "With --answer: ring this many seconds before answering");
  app.add_option("--decline", opt.decline, "With --answer: decline with this status (486, 603)");
  app.add_option("--count", opt.count, "With --answer: serve N sessions, then exit (0: forever)");
  app.add_option("--send", opt.send, "Send TEXT once the session is up (repeatable)")
      ->allow_extra_args(false);
  // A repeatable option takes one value per occurrence, so that TO after it stays TO (as
  // cli::add_common does for --listen).
  app.add_flag("--no-stdin", opt.no_stdin, "Do not read stdin; stay until the session ends");
  app.add_option("--duration", opt.duration, "End the session after this many seconds");
  app.add_option("--timeout", opt.timeout, "Seconds to wait for the answer (default 32)");
  app.add_flag("--no-service-indication", opt.no_service_indication,
               "Leave out the CPM enabler usage indication");
  app.add_flag("--register", opt.do_register, "Register --from with --proxy first");
  app.add_option("--password", opt.password, "Digest password for registering");
  app.add_option("--expires", opt.expires, "Registration lifetime in seconds (default 3600)");
  app.add_option("--audio-in", opt.audio_in,
                 "WAV file of what we say once audio is up (looped; see --audio-once)");
  app.add_flag("--audio-once", opt.audio_once, "Play --audio-in once, then send silence");
  app.add_option("--audio-out", opt.audio_out, "Record what we hear into this WAV file");
  app.add_option("--add-audio-after", opt.add_audio_after,
                 "Add audio this many seconds after the session is up");
  app.add_flag("--audio", opt.offer_audio, "Offer audio in the INVITE itself, beside the chat");
  app.add_option("--accept-media", opt.accept_media,
                 "Streams to take from an offer: all, message or message,audio (default all)");
  app.add_option("--codec", opt.codec, "Preferred audio codec: pcmu, pcma or opus (default pcmu)");
  app.add_flag("--msrp-tls", opt.msrp_tls,
               "Offer the chat over TLS (msrps:, TCP/TLS/MSRP), as over sips: (or msrp_tls)");
  app.add_option("TO", opt.to, "Whom to invite (sip:bob@b.example, a group URI)");
}

} // namespace cpm::invite
