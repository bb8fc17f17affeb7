#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include "cpm/base/trace.hpp"

namespace trace = cpm::trace;

TEST_SUITE_BEGIN("trace");

TEST_CASE("trace::first_line and trace::call_id read a SIP message")
{
  std::string msg = "MESSAGE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP x\r\n"
                    "Call-ID: abc@host\r\nCSeq: 1 MESSAGE\r\n\r\nCall-ID: not-this\r\n";
  CHECK(trace::first_line(msg) == "MESSAGE sip:bob@b.example SIP/2.0");
  CHECK(trace::call_id(msg) == "abc@host");
  SUBCASE("compact form and LF line ends")
  {
    CHECK(trace::call_id("SIP/2.0 200 OK\ni:  xyz\n\n") == "xyz");
  }
  SUBCASE("no Call-ID, or only in the body")
  {
    CHECK(trace::call_id("SIP/2.0 200 OK\r\nVia: x\r\n\r\nCall-ID: body\r\n") == "");
    CHECK(trace::call_id("") == "");
    CHECK(trace::first_line("") == "");
  }
}

TEST_CASE("trace::to_json and trace::from_json round-trip an event")
{
  trace::Event e{};
  e.time_us = 1700000000123456;
  e.node = "coreA";
  e.dir = std::string("tx");
  e.transport = "udp";
  e.local = "127.0.1.1:5060";
  e.peer = "127.0.1.2:5060";
  e.message = "MESSAGE sip:x SIP/2.0\r\nCall-ID: c1\r\n\r\n\"quoted\"\n";
  e.first_line = trace::first_line(e.message);
  e.call_id = trace::call_id(e.message);
  auto line = trace::to_json(e);
  CHECK(line.find('\n') == std::string::npos);
  auto back = trace::from_json(line);
  REQUIRE(back);
  CHECK(back->time_us == e.time_us);
  CHECK(back->node == "coreA");
  CHECK(back->peer == e.peer);
  CHECK(back->message == e.message);
  CHECK(back->call_id == "c1");
  SUBCASE("first_line and call_id default to the message's")
  {
    auto m = trace::from_json(
        R"({"time":1,"node":"n","dir":"rx","message":"OPTIONS sip:a SIP/2.0\r\ni: q\r\n\r\n"})");
    REQUIRE(m);
    CHECK(m->first_line == "OPTIONS sip:a SIP/2.0");
    CHECK(m->call_id == "q");
  }
  SUBCASE("malformed")
  {
    CHECK_FALSE(trace::from_json(""));
    CHECK_FALSE(trace::from_json("[1,2]"));
    CHECK_FALSE(trace::from_json("{\"time\":1}"));                                   // no node
    CHECK_FALSE(trace::from_json("{\"time\":\"x\",\"node\":\"n\",\"dir\":\"tx\"}")); // bad time
    CHECK_FALSE(trace::from_json("{\"time\":1,\"node\":\"n\""));                     // truncated
  }
}

TEST_CASE("trace::Writer appends events that read_file reads back")
{
  char tmpl[] = "/tmp/cpm-test-trace-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  std::string path = tmpl;
  {
    trace::Writer w;
    REQUIRE(w.open(path, "alice"));
    CHECK(w.is_open());
    w.write("tx", "udp", "127.0.1.10:5060", "127.0.1.1:5060",
            "MESSAGE sip:b SIP/2.0\r\nCall-ID: k\r\n\r\n");
    w.write("rx", "tcp", "127.0.1.10:5060", "127.0.1.1:5060",
            "SIP/2.0 200 OK\r\nCall-ID: k\r\n\r\n");
  }
  auto ev = trace::read_file(path);
  REQUIRE(ev);
  REQUIRE(ev->size() == 2);
  CHECK((*ev)[0].node == "alice");
  CHECK((*ev)[0].dir == "tx");
  CHECK((*ev)[1].transport == "tcp");
  CHECK((*ev)[1].first_line == "SIP/2.0 200 OK");
  CHECK((*ev)[0].time_us <= (*ev)[1].time_us);
  SUBCASE("a malformed line is an error naming the line")
  {
    std::ofstream(path, std::ios::app) << "not json\n";
    auto bad = trace::read_file(path);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find(path + ":3:") != std::string::npos);
  }
  std::remove(path.c_str());
  CHECK_FALSE(trace::read_file(path));
  trace::Writer none;
  CHECK_FALSE(none.open("/nonexistent-dir/x.trace", "n"));
}

TEST_SUITE_END();
