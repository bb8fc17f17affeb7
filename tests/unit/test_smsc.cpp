// cpm-smsc's pure parts: receipt plans, forced statuses, stdin lines.
#include <doctest/doctest.h>

#include "cpm-smsc/smsc.hpp"

namespace smsc = cpm::smsc;
namespace smpp = cpm::smpp;

TEST_SUITE_BEGIN("smsc");

TEST_CASE("smsc::parse_receipt_plan knows the states of --receipt")
{
  CHECK(smsc::parse_receipt_plan("delivered")->state == smpp::MessageState::delivered);
  CHECK(smsc::parse_receipt_plan("failed")->state == smpp::MessageState::undeliverable);
  CHECK(smsc::parse_receipt_plan("expired")->state == smpp::MessageState::expired);
  CHECK(smsc::parse_receipt_plan("delayed")->delayed);
  CHECK_FALSE(smsc::parse_receipt_plan("none")->send);
  CHECK_FALSE(smsc::parse_receipt_plan("DELIVRD"));
}

TEST_CASE("smsc::make_policy reads --receipt-for and --submit-status")
{
  smsc::Options opt;
  opt.receipt_for = {"+15550199=failed", "15550198=none"};
  opt.submit_status = {"*=ESME_RTHROTTLED*2", "+15550197=0x45"};
  auto p = smsc::make_policy(opt);
  REQUIRE(p);
  CHECK(p->receipt_of("15550199").state == smpp::MessageState::undeliverable);
  CHECK_FALSE(p->receipt_of("+15550198").send);
  CHECK(p->receipt_of("+15550100").state == smpp::MessageState::delivered);
  CHECK(p->take_status("+15550197") == smpp::k_esme_rsubmitfail);
  CHECK(p->take_status("+15550197") == smpp::k_esme_rsubmitfail); // no count: always
  CHECK(p->take_status("15550100") == smpp::k_esme_rthrottled);
  CHECK(p->take_status("15550101") == smpp::k_esme_rthrottled);
  CHECK_FALSE(p->take_status("15550102")); // the two are used up
  SUBCASE("malformed values are errors")
  {
    smsc::Options bad;
    bad.receipt_for = {"15550199"};
    CHECK_FALSE(smsc::make_policy(bad));
    bad.receipt_for = {"15550199=late"};
    CHECK_FALSE(smsc::make_policy(bad));
    bad.receipt_for.clear();
    bad.submit_status = {"*=ESME_NOPE"};
    CHECK_FALSE(smsc::make_policy(bad));
    bad.submit_status = {"*=0x58*0"};
    CHECK_FALSE(smsc::make_policy(bad));
  }
  CHECK(smsc::parse_status("RMSGQFUL") == smpp::k_esme_rmsgqful);
  CHECK(smsc::parse_status("88") == smpp::k_esme_rthrottled);
}

TEST_CASE("smsc::parse_inject_line takes words or JSON")
{
  auto a = smsc::parse_inject_line("+15550101  +15550100   hello  there ", false);
  REQUIRE(a);
  REQUIRE(*a);
  CHECK((*a)->from == "+15550101");
  CHECK((*a)->to == "+15550100");
  CHECK((*a)->text == "hello  there");
  CHECK_FALSE((*a)->report);
  auto j = smsc::parse_inject_line(R"({"from":"+1","to":"+2","text":"hi 😀","report":true})", false);
  REQUIRE(j);
  REQUIRE(*j);
  CHECK((*j)->text == "hi 😀");
  CHECK((*j)->report);
  auto skip = smsc::parse_inject_line("  # a comment", true);
  REQUIRE(skip);
  CHECK_FALSE(*skip);
  CHECK_FALSE(smsc::parse_inject_line("+15550101", false));
  CHECK_FALSE(smsc::parse_inject_line("{\"from\":1}", false));
  CHECK_FALSE(smsc::parse_inject_line("{nope", false));
  CHECK_FALSE(smsc::parse_inject_line("123456789012345678901 +1 x", false));
}

TEST_SUITE_END();
