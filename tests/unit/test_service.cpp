#include <doctest/doctest.h>

#include "cpm/codec/service.hpp"

using namespace cpm::service;

TEST_SUITE_BEGIN("service");

TEST_CASE("service::accept_contact encodes the ICSI")
{
  CHECK(accept_contact(k_icsi_msg) ==
        "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\"");
  CHECK(contact_feature(k_icsi_session) ==
        ";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session\"");
}

TEST_CASE("service::encode_icsi and decode_icsi round trip")
{
  CHECK(decode_icsi(encode_icsi(k_icsi_msg)) == k_icsi_msg);
  CHECK(decode_icsi("urn%3aurn-7") == "urn:urn-7");
  SUBCASE("malformed escapes stay as they are")
  {
    CHECK(decode_icsi("abc%") == "abc%");
    CHECK(decode_icsi("abc%4") == "abc%4");
    CHECK(decode_icsi("a%zzb") == "a%zzb");
  }
}

TEST_CASE("service::indicated reads Accept-Contact and P-Preferred-Service")
{
  auto v = indicated({accept_contact(k_icsi_msg)}, {std::string(k_icsi_msg)});
  REQUIRE(v.size() == 1);
  CHECK(v[0] == k_icsi_msg);
  CHECK(indicates_cpm({accept_contact(k_icsi_msg)}, {}));
  CHECK(indicates_cpm({}, {std::string(k_icsi_session)}));
  SUBCASE("several values in one header")
  {
    auto w = indicated({"*;+g.3gpp.icsi-ref=\"urn%3Aa,urn%3Ab\";explicit, *;audio"}, {});
    REQUIRE(w.size() == 2);
    CHECK(w[0] == "urn:a");
    CHECK(w[1] == "urn:b");
  }
  SUBCASE("not CPM")
  {
    CHECK_FALSE(indicates_cpm({"*;+g.3gpp.icsi-ref=\"urn%3Aother\""}, {"urn:x"}));
    CHECK_FALSE(indicates_cpm({}, {}));
  }
  SUBCASE("malformed feature tags")
  {
    CHECK(indicated({"*;+g.3gpp.icsi-ref=\"unterminated"}, {}).empty());
    CHECK(indicated({"*;+g.3gpp.icsi-ref"}, {}).empty());
    CHECK(indicated({";;;,,,"}, {}).empty());
  }
}

TEST_SUITE_END();
