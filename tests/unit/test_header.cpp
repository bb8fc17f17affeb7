#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cpm/grammar/header.hpp"

using namespace cpm::sip;

TEST_SUITE_BEGIN("header");

TEST_CASE("sip::long_name expands compact header names")
{
  CHECK(long_name("m") == "Contact");
  CHECK(long_name("I") == "Call-ID");
  CHECK(long_name("v") == "Via");
  CHECK(long_name("Contact") == "Contact");
  CHECK(long_name("q") == "q"); // no compact form
  CHECK(long_name("") == "");
  CHECK(is_list_header("route"));
  CHECK(is_list_header("Accept-Contact"));
  CHECK_FALSE(is_list_header("Subject"));
}

TEST_CASE("sip::split_header_list splits outside quotes and <>, drops empty elements")
{
  using V = std::vector<std::string_view>;
  CHECK(split_header_list("<sip:a;x=1,2>, \"b,c\" <sip:b> ,,") ==
        V{"<sip:a;x=1,2>", "\"b,c\" <sip:b>"});
  CHECK(split_header_list("").empty());
  CHECK(split_header_list(" , ").empty());
  SUBCASE("malformed values do not crash")
  {
    CHECK(split_header_list("\"open, quote") == V{"\"open, quote"});
    CHECK(split_header_list("<a,b") == V{"<a,b"});
    CHECK(split_header_list("a>,b") == V{"a>", "b"});
  }
}

TEST_CASE("sip::parse_name_addr splits display name, URI and header parameters")
{
  auto a =
      parse_name_addr(" \"Bob <B>\" <sip:bob@b.example;transport=tcp> ;tag=1;+g.x=\"a;b\"", "To");
  REQUIRE(a);
  CHECK(a->display == "\"Bob <B>\"");
  CHECK(a->uri == "sip:bob@b.example;transport=tcp");
  CHECK(a->params == ";tag=1;+g.x=\"a;b\"");
  // RFC 3261 §20.10: without brackets, the ';' parameters belong to the header.
  auto b = parse_name_addr("sip:bob@b.example;expires=60", "Contact");
  REQUIRE(b);
  CHECK(b->display == "");
  CHECK(b->uri == "sip:bob@b.example");
  CHECK(b->params == ";expires=60");
  auto c = parse_name_addr("<sip:x>", "Route");
  REQUIRE(c);
  CHECK(c->params == "");
  SUBCASE("malformed")
  {
    auto open = parse_name_addr("<sip:bob@b.example;expires=60", "Contact");
    REQUIRE_FALSE(open);
    CHECK(open.error().message == "Unterminated Contact URI");
    auto quote = parse_name_addr("\"Bob <sip:bob@b.example>", "Contact");
    REQUIRE_FALSE(quote);
    CHECK(quote.error().message == "Bad Contact display name");
    auto empty = parse_name_addr("", "From");
    REQUIRE(empty);
    CHECK(empty->uri.empty());
  }
}

TEST_CASE("sip::addr_spec takes the URI of a name-addr")
{
  CHECK(addr_spec("<sip:x;lr>;p") == "sip:x;lr");
  CHECK(addr_spec(" \"a <odd> name\" < sip:x@y > ") == "sip:x@y");
  CHECK(addr_spec(" sip:x;lr ") == "sip:x;lr");
  CHECK(addr_spec("<sip:x") == "sip:x");
  CHECK(addr_spec("\"unterminated <sip:x>") == "\"unterminated <sip:x>");
  CHECK(addr_spec("") == "");
}

TEST_CASE("sip::split_params and find_param read ;name=value lists")
{
  auto ps = split_params("*;+g.3gpp.icsi-ref=\"urn%3Aa,b;c\" ; require;;EXPLICIT= ");
  REQUIRE(ps.size() == 4);
  CHECK(ps[0].name == "+g.3gpp.icsi-ref");
  CHECK(ps[0].value == "\"urn%3Aa,b;c\"");
  CHECK(ps[0].has_value);
  CHECK(ps[1].name == "require");
  CHECK_FALSE(ps[1].has_value);
  CHECK(ps[2].name.empty());
  CHECK(ps[3].name == "EXPLICIT");
  CHECK(ps[3].has_value);
  CHECK(ps[3].value.empty());
  CHECK(split_params("sip:x").empty());
  CHECK(split_params("").empty());
  CHECK(split_params(";").size() == 1);
  CHECK(find_param(";lr;Transport=TCP", "transport") == "TCP");
  CHECK(find_param(";lr;transport=tcp", "LR") == "");
  CHECK_FALSE(find_param(";lrx", "lr"));
  CHECK_FALSE(find_param("lr", "lr")); // before the first ';': not a parameter
  CHECK_FALSE(find_param(";a=\"x;lr\"", "lr"));
  CHECK(unquote("\"a,b\"") == "a,b");
  CHECK(unquote("\"\"") == "");
  CHECK(unquote("ab") == "ab");
  CHECK(unquote("") == "");
  CHECK_FALSE(unquote("\""));
  CHECK_FALSE(unquote("\"open"));
}

TEST_SUITE_END();
