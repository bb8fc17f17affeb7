#include <doctest/doctest.h>

#include "cpm/codec/auth.hpp"

#include <string>
#include <thread>

using namespace cpm::auth;

TEST_SUITE_BEGIN("auth");

namespace {
// RFC 2617 §3.5.
const char* const k_rfc_challenge =
    "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
const char* const k_rfc_authorization =
    "Digest username=\"Mufasa\",\r\n realm=\"testrealm@host.com\",\r\n"
    " nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n uri=\"/dir/index.html\",\r\n"
    " qop=auth,\r\n nc=00000001,\r\n cnonce=\"0a4f113b\",\r\n"
    " response=\"6629fae49393a05397450978507c4ef1\",\r\n"
    " opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
} // namespace

TEST_CASE("auth::md5_hex matches RFC 1321 test vectors")
{
  CHECK(md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(md5_hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
}

TEST_CASE("auth::md5_hex reuses its context: calls in a row and from another thread agree")
{
  // The rest of the RFC 1321 §A.5 suite: one block, two blocks, then back to short inputs.
  CHECK(md5_hex("a") == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(md5_hex("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b");
  CHECK(md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
        "d174ab98d277d9f5a5611c2c9f419d9f");
  CHECK(md5_hex("1234567890123456789012345678901234567890123456789012345678901234567890123456"
                "7890") == "57edf4a22be3c955ac49da2e2107b67a");
  CHECK(md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  // A thread of its own has its own context; its results are checked here.
  std::string in_thread[2];
  std::thread t([&] {
    in_thread[0] = md5_hex("abc");
    in_thread[1] = md5_hex("message digest");
  });
  t.join();
  CHECK(in_thread[0] == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(in_thread[1] == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(md5_hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
}

TEST_CASE("auth::parse_authorization reads the RFC 2617 example")
{
  auto c = parse_authorization(k_rfc_authorization);
  REQUIRE(c);
  CHECK(c->username == "Mufasa");
  CHECK(c->realm == "testrealm@host.com");
  CHECK(c->nonce == "dcd98b7102dd2f0e8b11d0f600bfb0c093");
  CHECK(c->uri == "/dir/index.html");
  CHECK(c->qop == "auth");
  CHECK(c->nc == "00000001");
  CHECK(c->cnonce == "0a4f113b");
  CHECK(c->response == "6629fae49393a05397450978507c4ef1");
  CHECK(c->opaque == "5ccc069c403ebaf9f0171e9517f40e41");
  CHECK(verify(*c, "GET", "Circle Of Life"));
  CHECK_FALSE(verify(*c, "GET", "circle of life"));
  CHECK_FALSE(verify(*c, "POST", "Circle Of Life"));
}

TEST_CASE("auth::respond reproduces the RFC 2617 example response")
{
  auto value = respond(k_rfc_challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life");
  REQUIRE_FALSE(value.empty());
  CHECK(value.find("response=\"6629fae49393a05397450978507c4ef1\"") != std::string::npos);
  CHECK(value.find("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"") != std::string::npos);
  auto c = parse_authorization(value);
  REQUIRE(c);
  CHECK(c->response == "6629fae49393a05397450978507c4ef1");
  CHECK(verify(*c, "GET", "Circle Of Life"));
}

TEST_CASE("auth::parse_authorization handles quoting and odd spacing")
{
  SUBCASE("empty list elements are allowed (RFC 2616 §2.1 #rule)")
  {
    auto c = parse_authorization("Digest username=\"u\",, realm=\"r\", ,nonce=\"n\", "
                                 "uri=\"sip:x\", response=\"00112233445566778899aabbccddeeff\",");
    REQUIRE(c);
    CHECK(c->realm == "r");
  }
  SUBCASE("commas and escapes inside quoted strings")
  {
    auto c = parse_authorization(
        "digest username=\"a, \\\"b\\\"\" ,realm=\"r,x\",nonce=n1,uri=\"sip:a.example\","
        "response=\"00112233445566778899aabbccddeeff\", extra=\"ignored, really\"");
    REQUIRE(c);
    CHECK(c->username == "a, \"b\"");
    CHECK(c->realm == "r,x");
    CHECK(c->nonce == "n1");
    CHECK(c->qop.empty());
  }
  SUBCASE("parameter names are case-insensitive")
  {
    auto c = parse_authorization("Digest USERNAME=\"u\", Realm=\"r\", NONCE=\"n\", Uri=\"sip:x\", "
                                 "Response=\"00112233445566778899AABBCCDDEEFF\"");
    REQUIRE(c);
    CHECK(c->username == "u");
  }
}

TEST_CASE("auth::parse_authorization rejects malformed headers")
{
  const std::string ok_tail = "realm=\"r\", nonce=\"n\", uri=\"sip:x\", "
                              "response=\"00112233445566778899aabbccddeeff\"";
  CHECK(parse_authorization("Digest username=\"u\", " + ok_tail));
  const char* bad[] = {
      "",
      "Digest",
      "Digest   ",
      "Basic dXNlcjpwYXNz",
      "Digestusername=\"u\"",
      "Digest username=\"u",
      "Digest username=\"u\\",
      "Digest username",
      "Digest username=",
      "Digest =\"u\"",
      "Digest username=\"u\" realm=\"r\"",
      "Digest username=\"u\", username=\"v\", realm=\"r\", nonce=\"n\", uri=\"x\", "
      "response=\"00112233445566778899aabbccddeeff\"",
      // missing parameters
      "Digest realm=\"r\", nonce=\"n\", uri=\"sip:x\", "
      "response=\"00112233445566778899aabbccddeeff\"",
      "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\"",
      // response not 32 hex digits
      "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"xyz\"",
      // qop without cnonce / nc
      "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", qop=auth, "
      "response=\"00112233445566778899aabbccddeeff\"",
      "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", qop=auth, nc=1, "
      "cnonce=\"c\", response=\"00112233445566778899aabbccddeeff\"",
  };
  for (const char* b : bad) {
    CAPTURE(b);
    CHECK_FALSE(parse_authorization(b));
  }
}

TEST_CASE("auth::Nonces are valid for their lifetime and cannot be forged")
{
  Nonces nonces("s3cret");
  const int64_t t0 = 1700000000;
  auto n = nonces.make(t0);
  CHECK(n.find('.') != std::string::npos);
  CHECK(nonces.valid(n, t0));
  CHECK(nonces.valid(n, t0 + 300, 300));
  SUBCASE("expired")
  {
    CHECK_FALSE(nonces.valid(n, t0 + 301, 300));
    CHECK_FALSE(nonces.valid(n, t0 + 11, 10));
  }
  SUBCASE("issued in the future")
  {
    CHECK_FALSE(nonces.valid(n, t0 - 1));
  }
  SUBCASE("another secret")
  {
    CHECK_FALSE(Nonces("other").valid(n, t0));
  }
  SUBCASE("forged time or mac")
  {
    auto later = nonces.make(t0 + 1000);
    auto forged = later.substr(0, later.find('.')) + n.substr(n.find('.'));
    CHECK_FALSE(nonces.valid(forged, t0 + 1000));
    auto flipped = n;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    CHECK_FALSE(nonces.valid(flipped, t0));
  }
  SUBCASE("garbage")
  {
    for (const char* g : {"", ".", "abc", "zz.0123", ".d41d8cd98f00b204e9800998ecf8427e",
                          "11111111111111111.d41d8cd98f00b204e9800998ecf8427e"}) {
      CAPTURE(g);
      CHECK_FALSE(nonces.valid(g, t0));
    }
  }
}

TEST_CASE("auth round trip of challenge, respond, parse and verify")
{
  Nonces nonces("lab");
  const int64_t now = 1700000000;
  auto www = challenge("a.example", nonces.make(now));
  CHECK(www.rfind("Digest ", 0) == 0);
  CHECK(www.find("qop=\"auth\"") != std::string::npos);
  CHECK(challenge("a.example", "n", true).find("stale=true") != std::string::npos);

  auto value = respond(www, "REGISTER", "sip:a.example", "alice", "wonderland", "c0ffee");
  REQUIRE_FALSE(value.empty());
  auto c = parse_authorization(value);
  REQUIRE(c);
  CHECK(c->username == "alice");
  CHECK(c->realm == "a.example");
  CHECK(c->uri == "sip:a.example");
  CHECK(c->cnonce == "c0ffee");
  CHECK(nonces.valid(c->nonce, now + 5));
  CHECK(verify(*c, "REGISTER", "wonderland"));
  SUBCASE("wrong password")
  {
    CHECK_FALSE(verify(*c, "REGISTER", "Wonderland"));
  }
  SUBCASE("other method")
  {
    CHECK_FALSE(verify(*c, "INVITE", "wonderland"));
  }
  SUBCASE("tampered uri")
  {
    c->uri = "sip:b.example";
    CHECK_FALSE(verify(*c, "REGISTER", "wonderland"));
  }
  SUBCASE("unsupported algorithm")
  {
    c->algorithm = "SHA-256";
    CHECK_FALSE(verify(*c, "REGISTER", "wonderland"));
  }
  SUBCASE("no qop (RFC 2069 compatibility)")
  {
    auto v = respond("Digest realm=\"a.example\", nonce=\"abc\"", "REGISTER", "sip:a.example",
                     "alice", "wonderland");
    REQUIRE_FALSE(v.empty());
    CHECK(v.find("qop") == std::string::npos);
    auto c2 = parse_authorization(v);
    REQUIRE(c2);
    CHECK(c2->response ==
          cpm::auth::md5_hex(cpm::auth::md5_hex("alice:a.example:wonderland") +
                             ":abc:" + cpm::auth::md5_hex("REGISTER:sip:a.example")));
    CHECK(verify(*c2, "REGISTER", "wonderland"));
    CHECK_FALSE(verify(*c2, "REGISTER", "wrong"));
  }
  SUBCASE("malformed or unsupported challenges get no answer")
  {
    CHECK(respond("Basic realm=\"x\"", "REGISTER", "sip:a", "u", "p").empty());
    CHECK(respond("Digest realm=\"x\"", "REGISTER", "sip:a", "u", "p").empty());
    CHECK(
        respond("Digest realm=\"x\", nonce=\"n\", qop=\"auth-int\"", "REGISTER", "sip:a", "u", "p")
            .empty());
    CHECK(
        respond("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-256", "REGISTER", "sip:a", "u", "p")
            .empty());
    CHECK(respond("Digest realm=\"x, nonce=n", "REGISTER", "sip:a", "u", "p").empty());
  }
}

TEST_CASE("auth::parse_authorization survives truncation and byte flips")
{
  const std::string good = k_rfc_authorization;
  REQUIRE(parse_authorization(good));
  // A prefix parses only once it holds the whole response parameter (the quoted opaque
  // after it would be left unterminated).
  const auto response_end = good.find("4ef1\"") + 5;
  int parsed = 0;
  for (size_t n = 0; n < good.size(); ++n) {
    auto c = parse_authorization(good.substr(0, n));
    if (c) {
      ++parsed;
      CHECK(n >= response_end);
      CHECK(c->response == "6629fae49393a05397450978507c4ef1");
      CHECK(c->opaque.empty());
    }
  }
  CHECK(parsed > 0);
  const char flips[] = {'"', ',', '=', '\\', ' ', '\0', 'x'};
  for (size_t i = 0; i < good.size(); ++i)
    for (char f : flips) {
      auto mutated = good;
      mutated[i] = f;
      auto c = parse_authorization(mutated);
      if (c)
        CHECK(c->response.size() == 32);
    }
}

TEST_SUITE_END();
