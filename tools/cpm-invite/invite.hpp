#pragma once
// cpm-invite: the CPM Session client (INVITE with an MSRP offer, or --answer), chatting over
// MSRP with stdin/stdout. main.cpp only calls add_options() and run(); the pure helpers
// below are unit tested.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/base/events.hpp"
#include "cpm/config/cli.hpp"
#include "cpm/config/config.hpp"

namespace cpm::invite {

// Everything the command line (and the config file) can set.
struct Options {
  cli::Common common;
  std::string name;              // --name: trace node name when there is no --node
  std::string to;                // TO (positional): whom to invite
  bool answer = false;           // --answer: wait for invitations
  double answer_after = 0;       // --answer-after SECONDS
  int decline = 0;               // --decline CODE (4xx-6xx)
  int count = 1;                 // --count N sessions with --answer (0: forever)
  std::vector<std::string> send; // --send TEXT (repeatable)
  bool no_stdin = false;         // --no-stdin
  double duration = 0;           // --duration SECONDS (0: until the peer ends)
  double timeout = 32;           // --timeout SECONDS for the INVITE (and REGISTER)
  bool no_service_indication = false;
  bool do_register = false; // --register
  std::string password;     // --password
  uint32_t expires = 3600;  // --expires
  // Audio.
  std::string audio_in;             // --audio-in FILE.wav: what we say (looped)
  bool audio_once = false;          // --audio-once: the file once, then silence
  std::string audio_out;            // --audio-out FILE.wav: what we hear
  double add_audio_after = -1;      // --add-audio-after SECONDS (< 0: never)
  bool offer_audio = false;         // --audio: the INVITE offers audio beside the chat
  std::string accept_media = "all"; // --accept-media all|message|message,audio
  std::string codec = "pcmu";       // --codec pcmu|pcma|opus: the one we prefer
  bool msrp_tls = false;            // --msrp-tls (or the node's msrp_tls): offer MSRP over TLS
};

// Add every option and positional of cpm-invite to `app`.
void add_options(CLI::App& app, Options& opt);
// Run the program; returns the exit status (0, 1, 2, 3; see cpm-invite(1)).
int run(Options& opt);

// Take from/proxy/listen/password/trace from the [[node]] (role client) and [[user]]
// sections of `file` for `node`; options already set on the command line win.
Result<void> apply_config(Options& opt, const config::File& file);
// Check the options after merging.
Result<void> validate(const Options& opt);

// One chat message, sent or received.
struct Chat {
  std::string from; // CPIM From URI
  std::string to;   // CPIM To URI
  std::string message_id;
  std::string datetime;
  std::string text;
};
// The message/cpim body of a chat line (Content-Type text/plain;charset=utf-8).
std::string wrap(const Chat& c);
// A received MSRP message (content type and body) as a chat message. text/plain bodies are
// taken as they are (from/to empty); other types are an error.
Result<Chat> unwrap(std::string_view content_type, std::string_view body);
// The line printed on stdout for a received message: "SENDER: TEXT\n".
std::string chat_line(const Chat& c);
// The --json event of a received message.
events::Json chat_event(const Chat& c);
// The diagnostic for a refused INVITE: "TO refused the session: 486 Busy Here".
std::string refused(std::string_view to, int status, std::string_view reason);
// Whether a Contact header value carries the isfocus feature parameter (RFC 4579).
bool is_focus(std::string_view contact);

// A line of stdin: chat text, or a command ("/audio", "/audio off", "/hold", "/resume",
// "/codec pcmu|pcma|opus", "/help"); "//text" is the chat line "/text".
struct Command {
  enum class Kind { Chat, AudioOn, AudioOff, Hold, Resume, Codec, Help, Unknown };
  Kind kind = Kind::Chat;
  std::string text; // Chat: the line to send; Codec: its name; Unknown: the line
};
Command parse_command(const std::string& line);
// The /help text.
std::string command_help();
// Whether --accept-media takes audio; error for a list other than all, message,
// message,audio (in any order; message must be there).
Result<bool> accepts_audio(const std::string& accept_media);
// The --json event of a media change: action "added", "removed", "modified" or "refused"
// (status and warning only for refused; status 0 and warning "" are left out).
events::Json media_event(std::string_view action, std::string_view media, int status = 0,
                         std::string_view warning = {});

} // namespace cpm::invite
