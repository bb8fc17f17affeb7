#include <doctest/doctest.h>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "cpm/base/events.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/re.hpp"

namespace csip = cpm::sip;
namespace events = cpm::events;

namespace {

// A pipe whose write end is a FILE (fully buffered: not a terminal) and whose read end
// does not block, so a test sees exactly what reached the descriptor.
struct Pipe {
  int r = -1;
  std::FILE* w = nullptr;
  Pipe()
  {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    r = fds[0];
    REQUIRE(::fcntl(r, F_SETFL, O_NONBLOCK) == 0);
    w = ::fdopen(fds[1], "w");
    REQUIRE(w);
  }
  ~Pipe()
  {
    std::fclose(w);
    ::close(r);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  // What has reached the descriptor so far ("" when nothing).
  std::string read_now() const
  {
    std::string got;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(r, buf, sizeof(buf));
      if (n <= 0)
        break;
      got.append(buf, size_t(n));
    }
    return got;
  }
};

const events::Json k_one{{"type", "message"}, {"n", 1}};
const events::Json k_two{{"type", "message"}, {"n", 2}};

} // namespace

TEST_SUITE_BEGIN("events");

TEST_CASE("events::to_line writes one object per line")
{
  cpm::events::Json e{{"type", "message"}, {"text", "a\nb"}, {"n", 3}};
  auto line = cpm::events::to_line(e);
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  auto back = cpm::events::parse_line(line);
  REQUIRE(back);
  CHECK((*back)["text"] == "a\nb");
  CHECK((*back)["n"] == 3);
}

TEST_CASE("events::to_line replaces invalid UTF-8 instead of throwing")
{
  cpm::events::Json e{{"text", std::string("bad \xff\xfe byte")}};
  std::string line;
  CHECK_NOTHROW(line = cpm::events::to_line(e));
  CHECK(line.find("bad") != std::string::npos);
  CHECK(cpm::events::parse_line(line));
}

TEST_CASE("events::parse_line rejects what is not an object")
{
  CHECK_FALSE(cpm::events::parse_line("[1,2]"));
  CHECK_FALSE(cpm::events::parse_line("{\"a\":"));
  CHECK_FALSE(cpm::events::parse_line(""));
}

TEST_CASE("events::now is RFC 3339 UTC")
{
  auto t = cpm::events::now();
  CHECK(t.size() == 24);
  CHECK(t[10] == 'T');
  CHECK(t.back() == 'Z');
}

TEST_CASE("events::emit outside the loop reaches the descriptor at once")
{
  Pipe out;
  events::emit(k_one, out.w);
  CHECK(out.read_now() == events::to_line(k_one));
  std::fputs("text\n", out.w);
  events::written(out.w);
  CHECK(out.read_now() == "text\n");
}

TEST_CASE("events::emit in a descriptor handler reaches the descriptor at the end of the pass")
{
  csip::Library lib;
  Pipe out, other, trigger;
  struct Ctx {
    Pipe *out, *other, *trigger;
    std::string during, during_other, after, after_other;
    csip::Timer later;
  } ctx{&out, &other, &trigger, {}, {}, {}, {}, {}};
  auto on_read = [](int, void* arg) noexcept {
    auto* c = static_cast<Ctx*>(arg);
    (void)c->trigger->read_now();
    fd_close(c->trigger->r);
    events::emit(k_one, c->out->w);
    events::emit(k_two, c->out->w);
    events::emit(k_one, c->other->w);
    c->during = c->out->read_now();
    c->during_other = c->other->read_now();
    c->later.start(1, [c] {
      c->after = c->out->read_now();
      c->after_other = c->other->read_now();
      csip::stop(0);
    });
  };
  REQUIRE(fd_listen(trigger.r, FD_READ, on_read, &ctx) == 0);
  std::fputc('x', trigger.w);
  std::fflush(trigger.w);
  csip::Timer give_up;
  give_up.start(5000, [] { csip::stop(7); });
  CHECK(csip::run() == 0);
  fd_close(trigger.r);
  CHECK(ctx.during.empty());
  CHECK(ctx.during_other.empty());
  CHECK(ctx.after == events::to_line(k_one) + events::to_line(k_two));
  CHECK(ctx.after_other == events::to_line(k_one));
  // run() has returned: at once again.
  events::emit(k_two, out.w);
  CHECK(out.read_now() == events::to_line(k_two));
}

TEST_CASE("events::emit in a timer handler is flushed without waiting for another event")
{
  csip::Library lib;
  Pipe out;
  struct Ctx {
    Pipe* out;
    std::string during, got;
  } ctx{&out, {}, {}};
  // The reader wakes only when the line reaches the pipe; the one other timer is 5 s away.
  auto on_read = [](int, void* arg) noexcept {
    auto* c = static_cast<Ctx*>(arg);
    c->got += c->out->read_now();
    if (c->got == events::to_line(k_one)) {
      fd_close(c->out->r);
      csip::stop(0);
    }
  };
  REQUIRE(fd_listen(out.r, FD_READ, on_read, &ctx) == 0);
  csip::Timer emit;
  emit.start(0, [&ctx] {
    events::emit(k_one, ctx.out->w);
    ctx.during = ctx.out->read_now();
  });
  csip::Timer give_up;
  give_up.start(5000, [] { csip::stop(7); });
  CHECK(csip::run() == 0);
  fd_close(out.r);
  CHECK(ctx.during.empty());
  CHECK(ctx.got == events::to_line(k_one));
}

TEST_CASE("events pending when the loop stops are flushed as run() returns")
{
  csip::Library lib;
  Pipe out;
  std::string during;
  csip::Timer emit;
  emit.start(0, [&] {
    events::emit(k_one, out.w);
    during = out.read_now();
    csip::stop(3);
  });
  CHECK(csip::run() == 3);
  CHECK(during.empty());
  CHECK(out.read_now() == events::to_line(k_one));
}

TEST_SUITE_END();
