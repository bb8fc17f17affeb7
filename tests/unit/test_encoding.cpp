#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <zlib.h>

#include "cpm/codec/encoding.hpp"

using namespace cpm::encoding;

namespace {

// `data` compressed by zlib itself with `window_bits` (15 zlib, -15 raw, 31 gzip).
std::string compress(const std::string& data, int window_bits)
{
  z_stream z{};
  REQUIRE(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) ==
          Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

const std::string k_imdn =
    "From: <sip:bob@b.example>\r\nTo: <sip:alice@a.example>\r\n"
    "NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: 3Rk9a\r\n\r\n"
    "Content-Type: message/imdn+xml\r\n\r\n<?xml version=\"1.0\"?>"
    "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\"><message-id>abc</message-id>"
    "<delivery-notification><status><delivered/></status>"
    "</delivery-notification></imdn>";

// A file of tests/data, whole.
std::string data_file(const std::string& name)
{
  std::ifstream f(std::string(CPM_DATA_DIR) + "/" + name, std::ios::binary);
  REQUIRE(f);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

} // namespace

TEST_SUITE_BEGIN("codec");

TEST_CASE("encoding::decode reads what Python's zlib and gzip wrote (tests/data/encoding)")
{
  auto plain = data_file("examples/cpim/rcsjta-cpim-imdn-positive-delivery.cpim");
  CHECK(decode("deflate", data_file("encoding/imdn-delivery.cpim.deflate")).value_or("") == plain);
  CHECK(decode("deflate", data_file("encoding/imdn-delivery.cpim.raw-deflate")).value_or("") ==
        plain);
  CHECK(decode("gzip", data_file("encoding/imdn-delivery.cpim.gz")).value_or("") == plain);
  auto bomb = decode("deflate", data_file("encoding/bomb-2MiB-zeros.deflate"));
  REQUIRE_FALSE(bomb);
  CHECK(bomb.error().failure == Failure::TooLarge);
  CHECK(decode("deflate", data_file("encoding/bomb-2MiB-zeros.deflate"), 2 << 20)
            .value_or("")
            .size() == (2 << 20));
}

TEST_CASE("encoding::decode undoes what zlib compressed")
{
  SUBCASE("deflate in the zlib format (RFC 9110)")
  {
    auto body = compress(k_imdn, 15);
    auto d = decode("deflate", body);
    REQUIRE(d);
    CHECK(*d == k_imdn);
  }
  SUBCASE("raw deflate, as some senders send it")
  {
    auto d = decode("Deflate", compress(k_imdn, -15));
    REQUIRE(d);
    CHECK(*d == k_imdn);
  }
  SUBCASE("gzip and x-gzip")
  {
    auto body = compress(k_imdn, 31);
    CHECK(decode("gzip", body).value_or("") == k_imdn);
    CHECK(decode(" X-GZIP ", body).value_or("") == k_imdn);
  }
  SUBCASE("two gzip members are one body (RFC 1952 §2.2)")
  {
    auto d = decode("gzip", compress("first ", 31) + compress("second", 31));
    REQUIRE(d);
    CHECK(*d == "first second");
  }
  SUBCASE("a chain is undone last coding first")
  {
    auto body = compress(compress(k_imdn, 31), 15); // gzip, then deflate
    auto d = decode("gzip, deflate", body);
    REQUIRE(d);
    CHECK(*d == k_imdn);
    CHECK_FALSE(decode("deflate, gzip", body));
  }
  SUBCASE("identity and nothing leave the body alone")
  {
    CHECK(decode("", "plain").value_or("") == "plain");
    CHECK(decode("identity", "plain").value_or("") == "plain");
    CHECK(decode("deflate", "").value_or("x").empty());
    CHECK(decode("Identity", "plain").value_or("") == "plain");
    CHECK_FALSE(decode("deflate", "plain")); // a coding that changes the body
    auto br = decode("br", "plain");
    REQUIRE_FALSE(br);
    CHECK(br.error().failure == cpm::encoding::Failure::Unsupported);
  }
  SUBCASE("a body that inflates to exactly the limit passes")
  {
    std::string zeros(4096, '\0');
    CHECK(decode("deflate", compress(zeros, 15), 4096).value_or("").size() == 4096);
  }
}

TEST_CASE("encoding::decode refuses what it cannot undo")
{
  SUBCASE("an unknown coding is Unsupported")
  {
    for (const char* name : {"br", "compress", "zstd", "gzip, br"}) {
      auto d = decode(name, "xyz");
      REQUIRE_FALSE(d);
      CHECK(d.error().failure == Failure::Unsupported);
      CHECK(d.error().message.find("unsupported content coding") != std::string::npos);
    }
  }
  SUBCASE("a bomb is TooLarge")
  {
    std::string zeros(16 << 20, '\0'); // 16 MiB of zeros: about 16 KiB deflated
    for (int bits : {15, -15, 31}) {
      auto body = compress(zeros, bits);
      CHECK(body.size() < 64 * 1024); // fits one SIP message over TCP
      auto d = decode(bits == 31 ? "gzip" : "deflate", body);
      REQUIRE_FALSE(d);
      CHECK(d.error().failure == Failure::TooLarge);
      CHECK(d.error().message.find("1048576") != std::string::npos);
    }
    auto one_over = decode("deflate", compress(std::string(4097, 'a'), 15), 4096);
    REQUIRE_FALSE(one_over);
    CHECK(one_over.error().failure == Failure::TooLarge);
  }
  SUBCASE("broken data is Corrupt")
  {
    auto good = compress(k_imdn, 15);
    auto truncated = decode("deflate", good.substr(0, good.size() / 2));
    REQUIRE_FALSE(truncated);
    CHECK(truncated.error().failure == Failure::Corrupt);
    CHECK(decode("deflate", good + "junk").error().failure == Failure::Corrupt);
    CHECK(decode("gzip", good).error().failure == Failure::Corrupt); // zlib is not gzip
    CHECK(decode("gzip", compress(k_imdn, 31) + "x").error().failure == Failure::Corrupt);
    CHECK(decode("deflate", k_imdn).error().failure == Failure::Corrupt); // not compressed
    std::string flipped = good;
    flipped[flipped.size() - 1] ^= 0x55; // the Adler-32 check
    CHECK(decode("deflate", flipped).error().failure == Failure::Corrupt);
  }
  SUBCASE("more than four codings")
  {
    auto d = decode("gzip, gzip, gzip, gzip, gzip", "x");
    REQUIRE_FALSE(d);
    CHECK(d.error().failure == Failure::Corrupt);
  }
}

TEST_SUITE_END();
